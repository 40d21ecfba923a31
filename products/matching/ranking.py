"""The match score in SQL, so the database ranks the whole catalogue and Python explains a page.

Every formula here restates one of products/matching/score.py from the same constants
(products/matching/weights.py); tests/test_matching.py holds the two versions equal.
"""

import functools
import itertools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router
from django.db.models import (
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, NullIf, Round
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from formulary.models import Indication
from products.line_aggregates import lines_json_sql
from products.matching import weights as w
from products.matching.score import Points, evidence_value, headroom_points, link_strength
from products.models import IngredientLine, Product, ProductIndication

# Floating point in SQL: SQLite computes in REAL anyway, and Decimal outputs would wrap every
# step in CAST(... AS NUMERIC), past SQLite's parser depth. The ranking rounds the score to
# SCORE_ORDER_PLACES, far above the floating-point noise, and the page shows Python's Decimal.
SCORE_FIELD = FloatField()


def number(value) -> Value:
    return Value(float(value), output_field=SCORE_FIELD)


def float_expression(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=SCORE_FIELD)


def curve_sql(points: Points, x, *, above=None, above_value=None) -> Case:
    """matching.interpolate as a CASE over the expression ``x``.

    ``above``/``above_value``: a first branch giving ``above_value`` where x > ``above``.
    """
    branches = []
    if above is not None:
        branches.append(When(GreaterThan(x, number(above)), then=number(above_value)))
    branches.append(When(LessThanOrEqual(x, number(points[0][0])), then=number(points[0][1])))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        line = number(y0) + (x - number(x0)) * number(y1 - y0) / number(x1 - x0)
        branches.append(When(LessThanOrEqual(x, number(x1)), then=float_expression(line)))
    return Case(*branches, default=number(points[-1][1]), output_field=SCORE_FIELD)


def link_strength_sql(grade: str, basis: str) -> Case:
    """matching.link_strength for the evidence link whose fields are ``grade`` and ``basis``."""
    return Case(
        *(
            When(Q(**{grade: g, basis: b}), then=number(strength * factor))
            for g, strength in w.GRADE_STRENGTH.items()
            for b, factor in w.CARRIER_BASIS_FACTOR.items()
        ),
        output_field=SCORE_FIELD,
    )


def tolerability_sql(tendency: str) -> Case:
    """matching.TOLERABILITY for one compound; the product's value is the Min over its lines."""
    return Case(
        *(When(Q(**{tendency: t}), then=number(value)) for t, value in w.TOLERABILITY.items()),
        output_field=SCORE_FIELD,
    )


class StoredNumber(Round):
    """A stored Decimal column as a float, at its declared places as Python reads it back.

    SQLite keeps whatever precision was written, so it rounds; PostgreSQL rounded on write,
    so it only casts: the score's arithmetic then runs in double precision, several times
    faster than numeric over a large catalogue.
    """

    output_field = SCORE_FIELD

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"({sql})::double precision", params


def stored(field: str, prefix: str = "") -> StoredNumber:
    """Product column ``field``, reached through ``prefix`` (e.g. "product__") if given."""
    return StoredNumber(prefix + field, Product._meta.get_field(field).decimal_places)


def dose_sql(prefix: str = "") -> Case:
    return curve_sql(w.DOSE_CURVE, stored("elemental_mg_per_day", prefix))


def headroom_sql(limit_mg: Decimal | None, prefix: str = ""):
    if limit_mg is None:
        return number(1)
    mg_per_day = stored("elemental_mg_per_day", prefix)
    return curve_sql(headroom_points(limit_mg), mg_per_day, above=limit_mg, above_value=0)


def price_sql(prefix: str = "") -> Case:
    package_mg = (
        NullIf(stored("elemental_mg_per_serving", prefix), number(0))
        * F(f"{prefix}units_per_package")
        / stored("units_per_serving", prefix)
    )
    euro_per_100mg = float_expression(stored("price_eur", prefix) * number(100) / package_mg)
    return Case(
        When(
            Q(**{f"{prefix}price_eur__isnull": True})
            | Q(**{f"{prefix}elemental_mg_per_serving__lte": 0}),
            then=number(w.PRICE_UNKNOWN),
        ),
        default=curve_sql(w.PRICE_CURVE, euro_per_100mg),
        output_field=SCORE_FIELD,
    )


class CompiledSQL(Expression):
    """SQL compiled once and kept (``compiled_score``), so a request does not build and
    compile the score's expression tree again: several milliseconds of Python a request.

    Marked as an aggregate, so the query groups on the product alone, as it does for the
    aggregates the SQL holds (a scalar subquery of the selected columns need not be grouped by
    either).
    """

    contains_aggregate = True

    def __init__(self, sql: str, params=(), output_field=SCORE_FIELD):
        super().__init__(output_field=output_field)
        self.sql, self.params = sql, tuple(params)

    def resolve_expression(self, *args, **kwargs):
        return self

    def as_sql(self, compiler, connection):
        return self.sql, list(self.params)

    def get_group_by_cols(self):
        return []


MATCH_ROWS_JOIN = "indication_matches"
MATCH_SCORE = "match_score"
MATCH_RANK = "match_rank"
LINE_COMPOUNDS = "line_compounds"


def score_expressions(indication_count: int, limit_mg: Decimal | None) -> dict:
    """The score of ``ranked_matches`` as expressions over the product and its joined rows."""
    stored_points = (
        number(w.DOSE_WEIGHT) * F(f"{MATCH_ROWS_JOIN}__dose_value")
        + number(w.PRICE_WEIGHT) * F(f"{MATCH_ROWS_JOIN}__price_value")
        + number(w.TOLERABILITY_WEIGHT) * Cast(f"{MATCH_ROWS_JOIN}__tolerability", SCORE_FIELD)
        + number(w.HEADROOM_WEIGHT) * headroom_sql(limit_mg)
    )
    # The product terms are aggregated too (Max over the product's one or two joined rows),
    # so the query groups on the product alone.
    score = float_expression(
        number(100)
        * (
            number(w.EVIDENCE_WEIGHT)
            * Cast(Sum(f"{MATCH_ROWS_JOIN}__evidence_strength"), SCORE_FIELD)
            / number(indication_count)
            + Max(float_expression(stored_points))
        )
    )
    return {MATCH_SCORE: score, MATCH_RANK: Round(score, w.SCORE_ORDER_PLACES)}


@functools.lru_cache(maxsize=64)
def compiled_score(database: str, indication_count: int, limit_mg: Decimal | None) -> dict:
    """``score_expressions`` compiled for ``database``, as the ranking's query joins the rows
    (the join's alias is the table's name: ``ranked_matches`` checks it)."""
    query = Product.objects.filter(**{f"{MATCH_ROWS_JOIN}__indication_id": 0}).annotate(
        **score_expressions(indication_count, limit_mg)
    )
    compiler = query.query.get_compiler(using=database)
    return {
        name: CompiledSQL(*compiler.compile(query.query.annotations[name]))
        for name in (MATCH_SCORE, MATCH_RANK)
    }


@functools.lru_cache(maxsize=4)
def compiled_line_compounds(database: str) -> CompiledSQL:
    """The ranked product's compound ids in line order, as a JSON array of one-item arrays: the
    page's lines come with the ranking, not in a query of their own (products.matching.explain)."""
    sql = lines_json_sql(
        IngredientLine._meta.db_table, ("compound_id",), connections[database].vendor
    )
    return CompiledSQL(sql, output_field=TextField())


def match_rows_alias(query) -> str | None:
    """The alias under which ``query`` joins the match rows, if it joins them once."""
    table = ProductIndication._meta.db_table
    aliases = [alias for alias, join in query.alias_map.items() if join.table_name == table]
    return aliases[0] if len(aliases) == 1 else None


def ranked_matches(
    products: QuerySet[Product],
    *,
    indication_ids: list[int],
    limit_mg: Decimal | None,
    floor: tuple[str, float] | None = None,
    with_lines: bool = False,
) -> QuerySet[Product]:
    """``products`` linked to any of the indications, annotated with ``match_score``, best first.

    The join to the stored ProductIndication rows of the asked indications selects the matches,
    sums their evidence and brings the stored dose, price and tolerability values; only the
    headroom (it depends on the asked jurisdiction) is computed here.

    ``floor``: (points field, value): only products whose rows have at least these points
    (the rows of one product all carry the same), which the index on (indication, points)
    finds without reading the others; ``top_matches`` chooses it. ``with_lines``: each
    product's compound ids in line order as ``line_compounds`` (a JSON array).
    """
    rows = {f"{MATCH_ROWS_JOIN}__indication_id__in": indication_ids}
    if floor is not None:
        field, value = floor
        rows[f"{MATCH_ROWS_JOIN}__{field}__gte"] = value
    ranking = products.filter(**rows)
    database = ranking.db
    table = ProductIndication._meta.db_table
    if match_rows_alias(ranking.query) == table:
        annotations = compiled_score(database, len(indication_ids), limit_mg)
    else:  # the filters joined the rows already: compile the expressions for this query
        annotations = score_expressions(len(indication_ids), limit_mg)
    if with_lines:
        annotations = {**annotations, LINE_COMPOUNDS: compiled_line_compounds(database)}
    return ranking.annotate(**annotations).order_by(F(MATCH_RANK).desc(), "gtin")


CANDIDATES_PER_RESULT = 4
"""How many rows of one asked indication the first try of ``top_matches`` reads per result
asked for: enough that the page's filters seldom leave too few, few enough to stay small."""

WIDER_TRY = 16
"""When the first try's candidates leave fewer results than asked (selective filters), the
second reads this many times more rows; after it the ranking reads all matches."""

SCORE_MARGIN = 1e-5
"""Score points (0-100) that a left-out product stays below the last result: well above the
floating-point noise of the SQL score, and enough that rounding to SCORE_ORDER_PLACES never
makes it tie with the last result (a tie would let the GTIN pull it onto the page)."""


def points_field(jurisdiction: str) -> str:
    """The ProductIndication column of the points under ``jurisdiction``'s upper limit."""
    return f"points_{jurisdiction}"


def floors_query(indication_ids: list[int], field: str, rows: int) -> QuerySet:
    """Per asked indication the points of its ``rows``-th best row (None if it has fewer)."""
    nth = (
        ProductIndication.objects.filter(indication=OuterRef("pk"))
        .order_by(f"-{field}")
        .values(field)[rows - 1 : rows]
    )
    return (
        Indication.objects.filter(pk__in=indication_ids)
        .annotate(floor=Subquery(nth))
        .values_list("floor", flat=True)
    )


@functools.lru_cache(maxsize=256)
def compiled_floors(database: str, indication_ids: tuple[int, ...], field: str, rows: int):
    """``floors_query`` compiled once for ``database``: the SQL and its parameters."""
    query = floors_query(list(indication_ids), field, rows).query
    return query.get_compiler(using=database).as_sql()


def points_floor(indication_ids: list[int], field: str, rows: int) -> float | None:
    """The highest points that ``rows`` rows of one asked indication all reach, or None when
    every asked indication has fewer rows: one query, an index probe per indication.

    A query of its own, not a subquery of the ranking: given the floor as a number, the
    planner sees how few rows lie above it (as a subquery's, it guessed a third of them and
    read every product).
    """
    database = router.db_for_read(ProductIndication)
    sql, params = compiled_floors(database, tuple(indication_ids), field, rows)
    with connections[database].cursor() as cursor:
        cursor.execute(sql, params)
        reached = [floor for (floor,) in cursor.fetchall() if floor is not None]
    return max(reached) if reached else None


def points_needed(last_score: float, evidence_bound: Decimal) -> float:
    """The points below which no product can score within SCORE_MARGIN of ``last_score``.

    A product's score is 100 * (EVIDENCE_WEIGHT * mean evidence + points), and its mean
    evidence is at most ``evidence_bound``.
    """
    return (last_score - SCORE_MARGIN) / 100 - float(w.EVIDENCE_WEIGHT * evidence_bound)


def top_matches(
    products: QuerySet[Product],
    *,
    indication_ids: list[int],
    jurisdiction: str,
    limit_mg: Decimal | None,
    evidence_bound: Decimal,
    count: int,
    headroom_slack: float = 0.0,
    evidence_spread: Decimal = Decimal(0),
) -> list[Product]:
    """``ranked_matches(...)[:count]``, exactly, without ranking every match (a threshold scan).

    ``limit_mg``: the adult upper limit of ``jurisdiction`` (the match rows' points use it).
    ``evidence_bound``: the highest mean evidence any product can have for the asked
    indications (the mean of each one's strongest link in the knowledge base).
    ``headroom_slack``: how far (in points, 0-1) a product's points may lie from its stored
    ones: 0 when ``limit_mg`` is the adult limit the match rows were scored with; for another
    population's limit the headroom term alone changes, by at most its weight, so the floor
    proves only what lies that much below it.
    ``evidence_spread``: how far the results' mean evidence may typically lie below the bound
    (``evidence_spread``); each try starts that many weighted points (and the slack) below
    its floor, where the proof usually ends, so most requests need one ranking, not two. It
    only moves where the scan starts: the proof below decides, whatever its value.

    Ranks only the products at or above a floor of points, so its cost follows ``count`` and
    not the catalogue: first the floor that ``CANDIDATES_PER_RESULT * count`` rows of one
    indication reach. Every product left out has fewer points, so it scores below what
    ``points_needed`` allows; when the count-th result's score does not prove that, one more
    ranking lowers the floor to the one it proves. Two or three queries in all.
    """
    field = points_field(jurisdiction)

    def ranked(floor: float | None) -> list[Product]:
        ranking = ranked_matches(
            products,
            indication_ids=indication_ids,
            limit_mg=limit_mg,
            floor=None if floor is None else (field, floor),
            with_lines=True,
        )
        return list(ranking[:count])

    below = float(w.EVIDENCE_WEIGHT * evidence_spread) + headroom_slack
    rows = CANDIDATES_PER_RESULT * count
    for _try in range(2):
        floor = points_floor(indication_ids, field, rows)
        if floor is None:
            return ranked(None)
        floor -= below
        found = ranked(floor)
        if len(found) == count:
            break
        rows *= WIDER_TRY
    else:
        return ranked(None)
    needed = points_needed(found[-1].match_score, evidence_bound) - headroom_slack
    return found if needed >= floor else ranked(needed)


@dataclass(frozen=True)
class TopMatchesPages:
    """``top_matches`` as the paginator slices a queryset: a page reads only what it shows."""

    products: QuerySet[Product]
    indication_ids: list[int]
    jurisdiction: str
    limit_mg: Decimal | None
    evidence_bound: Decimal
    headroom_slack: float = 0.0
    evidence_spread: Decimal = Decimal(0)

    def __getitem__(self, bounds: slice) -> list[Product]:
        return top_matches(
            self.products,
            indication_ids=self.indication_ids,
            jurisdiction=self.jurisdiction,
            limit_mg=self.limit_mg,
            evidence_bound=self.evidence_bound,
            count=bounds.stop,
            headroom_slack=self.headroom_slack,
            evidence_spread=self.evidence_spread,
        )[bounds]


def strongest_links(knowledge) -> dict[str, Decimal]:
    """Per indication slug the strength of its strongest link in ``knowledge``."""
    strongest = defaultdict(Decimal)
    for links in knowledge.evidence.values():
        for link in links:
            slug = link.indication.slug
            strongest[slug] = max(strongest[slug], link_strength(link.grade, link.basis))
    return strongest


def evidence_bound(knowledge, indication_slugs: list[str]) -> Decimal:
    """The highest mean evidence any product can have for the asked indications: the mean of
    each one's strongest link in ``knowledge`` (products.knowledge), since a product's best
    link is one of these links."""
    strongest = strongest_links(knowledge)
    return evidence_value((strongest[slug] for slug in indication_slugs), len(indication_slugs))


def evidence_spread(knowledge, indication_slugs: list[str]) -> Decimal:
    """How far below ``evidence_bound`` the mean evidence of a product lies that has the
    strongest link of one asked indication only: where the first page's results typically
    lie when few products cover several of the asked indications (0 for one indication)."""
    strongest = strongest_links(knowledge)
    best_one = max(strongest[slug] for slug in indication_slugs) / len(indication_slugs)
    return evidence_bound(knowledge, indication_slugs) - best_one
