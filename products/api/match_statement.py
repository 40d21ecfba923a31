"""The match's ranking query, compiled once per shape of its filters and its ranking.

Building and compiling the ranking's queryset (the filters, the joined match rows, the score,
the floors of the threshold scan) cost the ORM a seventh of an uncached match's instructions
(callgrind, 10,000 products), and PostgreSQL parsed the statement again on every request. As
the list's statement (products.api.list_statement), the SQL depends on which filters are given
and on the ranking's shape: how many indications (the score divides by it), the upper limit
(the headroom's curve), the jurisdiction's points column and how many signatures the scan
reads. The filters' slugs and amounts, the indication ids, the signatures, their floors and
the LIMIT are parameters. On PostgreSQL each statement is prepared per connection, so the
server parses it once; it still plans it for each request's values, keeping a generic plan
only where that is estimated to cost no more (``plan_cache_mode`` auto).

tests/test_match_statement.py holds the compiled rankings equal to the queryset's on
generated catalogues and filter combinations.
"""

from decimal import Decimal

from django.db import connections, router
from django.db.models import QuerySet

from formulary.common.catalogue_version import kept_per_version
from formulary.common.statements import (
    compile_statement,
    marker_for,
    prepared_cursor,
    run_model_statement,
)
from products.api.list_statement import MAX_SHAPES, filter_with_markers, statement_shape
from products.matching.ranking import best_ranked, ranked_matches
from products.models import Product

# Kept per knowledge version, as the list's: a claim's threshold and an upper limit are
# written into them.
statements_kept = kept_per_version(dict)
UNCOMPILABLE = object()


def candidates_for(filterset, base: QuerySet):
    """What ``top_matches`` ranks: ``CompiledCandidates`` where the given filters' shape
    compiles, else the filtered queryset itself (a search)."""
    given = filterset.given()
    shape = statement_shape(filterset, given)
    if shape is None:
        return filterset.filter_queryset(base)
    return CompiledCandidates(filterset, base, given, shape)


class CompiledCandidates:
    """The filtered products of a match, ranked by statements kept for their shape."""

    def __init__(self, filterset, base: QuerySet, given: dict, shape):
        self.filterset, self.base, self.given = filterset, base, given
        self.key, self.values, self.markers = shape
        self.alias = router.db_for_read(Product)

    def queryset(self) -> QuerySet:
        return self.filterset.filter_queryset(self.base)

    def best_ranked(
        self,
        *,
        indication_ids: list[int],
        limit_mg: Decimal | None,
        floors: tuple[str, list[tuple[str, float]]] | None,
        count: int,
    ) -> list[Product]:
        """As ranking.best_ranked on ``queryset()``."""
        if floors is not None and not floors[1]:
            return []  # no signature can reach the target: the queryset's none()
        field, floor_values = floors if floors is not None else (None, [])
        key = (
            self.alias,
            self.key,
            len(indication_ids),
            limit_mg,
            field,
            None if floors is None else len(floor_values),
        )
        values = [
            *self.values,
            *indication_ids,
            *(value for floor in floor_values for value in floor),
        ]
        kept = statements_kept()
        statement = kept.get(key)
        if statement is None:
            statement = self.compiled(limit_mg, len(indication_ids), field, values)
            if len(kept) < MAX_SHAPES:
                kept[key] = statement
        if statement is UNCOMPILABLE:
            return best_ranked(
                self.queryset(),
                indication_ids=indication_ids,
                limit_mg=limit_mg,
                floors=floors,
                count=count,
            )
        with prepared_cursor(connections[self.alias]) as cursor:
            return run_model_statement(
                statement, self.alias, values, cursor, suffix=(" LIMIT %s", (count,))
            )

    def compiled(self, limit_mg, indication_count: int, field, values):
        """The ranking's statement with markers for ``values``, or UNCOMPILABLE."""
        markers = [marker_for(value, position) for position, value in enumerate(values)]
        filtered = len(self.values)
        ids = markers[filtered : filtered + indication_count]
        floor_markers = markers[filtered + indication_count :]
        pairs = list(zip(floor_markers[::2], floor_markers[1::2], strict=True))
        products = filter_with_markers(self.filterset, self.base, self.given, self.markers)
        ranking = ranked_matches(
            products,
            indication_ids=ids,
            limit_mg=limit_mg,
            floors=None if field is None else (field, pairs),
            with_lines=True,
        )
        try:
            return compile_statement(ranking, self.alias, markers)
        except ValueError:
            return UNCOMPILABLE
