"""The catalogue list's one query, compiled once per shape of its filters.

Validating a page's filters is cheap; building the filtered values queryset and compiling it
cost the ORM about 2 ms of CPU per page (10,000 products, measured in process), more than the
database takes to run it. The SQL depends on which filters are given and on a few of their
values (an ordering, a boolean, a claim's threshold), not on the slugs, ids and amounts a
webshop asks for: ``ProductFilter.statement_parameters`` names those, and they take markers'
places (formulary.common.statements), so one statement serves every value. The page's LIMIT
and OFFSET are parameters too.

The statements are kept per knowledge version: a claim's threshold and a jurisdiction's upper
limit are written into them. Django's own cursor runs them, so PostgreSQL plans each page for
its values, as it plans the queryset's. A test holds the rows equal to the queryset's over
generated filter combinations.

On PostgreSQL a page is read in two steps (``PageQueries``): the ids of the page, by the
filtered statement planned for its values, then their rows by one prepared statement. Planning
the whole page (its brand join and the correlated subqueries of its lines) cost the server
more than running it (0.5 ms of 1.6 ms at 10,000 products, warm); planning the ids alone costs
0.2 ms, and the rows by id keep one plan whatever the page: an index probe per id.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import QuerySet

from formulary.common.catalogue_version import kept_per_version
from formulary.common.statements import (
    CompiledValues,
    compile_statement,
    marker_for,
    run_statement,
    statement_rows,
)
from products.api.filters import EACH, ONE, UNUSED
from products.models import Product

# Shapes kept per process and knowledge version; past this a page is compiled afresh.
MAX_SHAPES = 1000
# A shape whose statement could not take its values as parameters: built afresh each time.
UNCOMPILABLE = object()

statements_kept = kept_per_version(dict)


@dataclass(frozen=True)
class PageQueries:
    """How a page of the catalogue is read from the filtered products.

    ``rows(filtered)``: their values queryset in page order, the page's one statement.
    ``ids(filtered)``: their ids alone in the same order, and ``rows_by_id`` the rows of a
    list of ids: the page in two steps, on PostgreSQL.
    """

    rows: Callable[[QuerySet], QuerySet]
    ids: Callable[[QuerySet], QuerySet]
    rows_by_id: CompiledValues


def reads_in_two_steps(alias: str) -> bool:
    # SQLite has no arrays to give the ids in, and plans a page in microseconds.
    return connections[alias].vendor == "postgresql"


class CompiledPage:
    """The filtered, ordered products as a sliceable sequence of ``product_values`` rows:
    what the paginator reads from a queryset, one statement run per slice (two on
    PostgreSQL: the page's ids, then their rows)."""

    def __init__(self, statement, alias: str, values: list, *, ids_statement=None, rows_by_id=None):
        self.statement, self.alias, self.values = statement, alias, values
        self.ids_statement, self.rows_by_id = ids_statement, rows_by_id

    def __getitem__(self, page: slice) -> list[dict]:
        limit = (" LIMIT %s OFFSET %s", (page.stop - page.start, page.start))
        with connections[self.alias].cursor() as cursor:
            if self.ids_statement is None:
                return run_statement(self.statement, self.alias, self.values, cursor, suffix=limit)
            ids = [
                row[0]
                for row in statement_rows(
                    self.ids_statement, self.alias, self.values, cursor, limit
                )
            ]
        if not ids:
            return []
        by_id = {row["id"]: row for row in self.rows_by_id.rows(self.alias, ids)}
        # A product unpublished or deleted between the two steps leaves the page.
        return [by_id[id_] for id_ in ids if id_ in by_id]


def catalogue_page_rows(filterset, base: QuerySet, queries: PageQueries):
    """``queries.rows(filtered)`` (the values queryset of ``base`` under the filters) as a
    ``CompiledPage`` where its shape compiles, else the queryset itself.

    ``filterset``: the validated ProductFilter, or None when nothing is filtered.
    """
    given = filterset.given() if filterset is not None else {}
    shape = statement_shape(filterset, given)
    if shape is None:
        return queries.rows(filterset.filter_queryset(base))
    key, values, markers = shape
    alias = router.db_for_read(Product)
    kept = statements_kept()
    statements = kept.get((alias, key))
    if statements is None:
        statements = compile_page(queries, filterset, base, given, markers, alias)
        if len(kept) < MAX_SHAPES:
            kept[alias, key] = statements
    if statements is UNCOMPILABLE:
        # Only a filtered shape can fail to compile: the unfiltered one has no markers.
        return queries.rows(filterset.filter_queryset(base))
    statement, ids_statement = statements
    return CompiledPage(
        statement,
        alias,
        values,
        ids_statement=ids_statement,
        rows_by_id=queries.rows_by_id if ids_statement is not None else None,
    )


def compile_page(queries: PageQueries, filterset, base, given: dict, markers: dict, alias: str):
    """(the page's statement, its ids' statement or None), or UNCOMPILABLE."""
    filtered = filter_with_markers(filterset, base, given, markers)
    marker_values = [marker for marked in markers.values() for marker in marked]
    try:
        return (
            compile_statement(queries.rows(filtered), alias, marker_values),
            compile_statement(queries.ids(filtered), alias, marker_values)
            if reads_in_two_steps(alias)
            else None,
        )
    except ValueError:
        return UNCOMPILABLE


def statement_shape(filterset, given: dict):
    """(key, parameter values, markers by filter) of the given filters, or None when one of
    them never compiles. The key holds every filter given: a parameter's by how many values
    it binds, any other's by its value."""
    if filterset is None:
        return (), [], {}
    if filterset.never_compiled & given.keys():
        return None
    key, values, markers = [], [], {}
    for name, value in given.items():
        binding = filterset.statement_binding(name)
        if binding == UNUSED:
            continue
        if binding is None:
            key.append((name, tuple(value) if isinstance(value, list) else value))
            continue
        bound = parameters_of(filterset, binding, value)
        markers[name] = [marker_for(item, len(values) + i) for i, item in enumerate(bound)]
        values.extend(bound)
        key.append((name, len(bound)))
    return tuple(key), values, markers


def parameters_of(filterset, binding, value) -> list:
    if binding == ONE:
        return [value]
    if binding == EACH:
        return list(value)
    to_parameters, _ = binding
    return getattr(filterset, to_parameters)(value)


def filter_with_markers(filterset, base: QuerySet, given: dict, markers: dict) -> QuerySet:
    """``base`` under the given filters, in their order, with markers for the parameters."""
    queryset = base
    for name, value in given.items():
        binding = filterset.statement_binding(name)
        if binding == UNUSED:
            continue
        if binding is None:
            queryset = filterset.apply_filter(queryset, name, value)
        elif binding == ONE:
            queryset = filterset.apply_filter(queryset, name, markers[name][0])
        elif binding == EACH:
            queryset = filterset.apply_filter(queryset, name, markers[name])
        else:
            _, filter_by_parameters = binding
            queryset = getattr(filterset, filter_by_parameters)(queryset, name, markers[name])
    return queryset
