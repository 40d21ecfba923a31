"""The match score in SQL, so the database ranks the whole catalogue and Python explains a page.

Every formula here restates one of products/matching/score.py from the same constants
(products/matching/weights.py); tests/test_matching.py holds the two versions equal.
"""

import functools
import itertools
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, NullIf, Round
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from formulary.common.catalogue_version import COLLECTION_ANSWER, kept_per_version
from formulary.models import Indication
from products.line_aggregates import lines_json_sql
from products.matching import weights as w
from products.matching.score import Points, evidence_value, headroom_points
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
    floors: tuple[str, list[tuple[str, float]]] | None = None,
    with_lines: bool = False,
) -> QuerySet[Product]:
    """``products`` linked to any of the indications, annotated with ``match_score``, best first.

    The join to the stored ProductIndication rows of the asked indications selects the matches,
    sums their evidence and brings the stored dose, price and tolerability values; only the
    headroom (it depends on the asked jurisdiction) is computed here.

    ``floors``: (points field, [(evidence signature, points), ...]): only the products of
    those signatures whose rows have at least that signature's points (the rows of one
    product all carry the same signature and points), which the index on (indication,
    signature, points) finds without reading the others; ``top_matches`` chooses them.
    ``with_lines``: each product's compound ids in line order as ``line_compounds``.
    """
    joined_before = set(products.query.alias_map)
    ranking = products.filter(**{f"{MATCH_ROWS_JOIN}__indication_id__in": indication_ids})
    database = ranking.db
    table = ProductIndication._meta.db_table
    if floors is not None:
        # The floors apply to the rows this filter joined, not to a join the filters made.
        joined = next(
            alias
            for alias, join in ranking.query.alias_map.items()
            if join.table_name == table and alias not in joined_before
        )
        ranking = floors_condition(ranking, joined, *floors)
    if match_rows_alias(ranking.query) == table:
        annotations = compiled_score(database, len(indication_ids), limit_mg)
    else:  # the filters joined the rows already: compile the expressions for this query
        annotations = score_expressions(len(indication_ids), limit_mg)
    if with_lines:
        annotations = {**annotations, LINE_COMPOUNDS: compiled_line_compounds(database)}
    return ranking.annotate(**annotations).order_by(F(MATCH_RANK).desc(), "gtin")


def floors_condition(
    ranking: QuerySet[Product], alias: str, field: str, floor_per_signature: list[tuple[str, float]]
) -> QuerySet[Product]:
    """``ranking`` with only the rows under ``alias`` that reach their signature's floor.

    Written as SQL rather than a Q per signature: the ORM's building and compiling of a
    hundred lookups cost more Python than the rest of the ranking's query."""
    if not floor_per_signature:
        return ranking.none()
    quote = connections[ranking.db].ops.quote_name

    def column(name: str) -> str:
        return f"{quote(alias)}.{quote(ProductIndication._meta.get_field(name).column)}"

    one = f"({column('evidence_signature')} = %s AND {column(field)} >= %s)"
    params = [value for floor in floor_per_signature for value in floor]
    condition = " OR ".join([one] * len(floor_per_signature))
    return ranking.filter(RawSQL(f"({condition})", params, output_field=BooleanField()))


CANDIDATES_PER_RESULT = 4
"""How many rows of one asked indication the first try of ``top_matches`` reads per result
asked for: enough that the page's filters seldom leave too few, few enough to stay small."""

WIDER_TRY = 16
"""When the first try's candidates leave fewer results than asked (selective filters), the
second reads this many times more rows; after it the ranking reads all matches."""

NTH_GROUPS = 4
"""How many of the best signature groups ``proven_target`` reads ``CANDIDATES_PER_RESULT *
count`` rows deep: the target only moves the scan's start (any proven one is exact), and
the best groups almost always hold it."""

SCORE_MARGIN = 1e-5
"""Score points (0-100) that a left-out product stays below the last result: well above the
floating-point noise of the SQL score, and enough that rounding to SCORE_ORDER_PLACES never
makes it tie with the last result (a tie would let the GTIN pull it onto the page)."""


def points_field(jurisdiction: str) -> str:
    """The ProductIndication column of the points under ``jurisdiction``'s upper limit."""
    return f"points_{jurisdiction}"


def signature_evidence(signature: str) -> dict[int, Decimal]:
    """An evidence signature (ProductIndication.evidence_signature) read back: the strength
    per indication id."""
    pairs = (pair.split(":") for pair in signature.split(",") if pair)
    return {int(indication): Decimal(strength) for indication, strength in pairs}


@dataclass(frozen=True)
class SignatureGroup:
    """The products of one evidence signature among the asked indications' rows."""

    signature: str
    indication_id: int  # an asked indication of the signature: whose rows to read
    evidence: float  # their evidence term of the score (0-1): EVIDENCE_WEIGHT * mean strength
    best_points: float

    def reaches(self, target: float, slack: float) -> bool:
        """Whether any of its products can score ``target`` (0-1) or more."""
        return self.evidence + self.best_points + slack >= target

    def floor(self, target: float, slack: float) -> float:
        """The stored points below which none of its products scores ``target`` (0-1)."""
        return target - self.evidence - slack


GROUPS_SQL = """
WITH RECURSIVE signatures (indication_id, signature) AS (
    SELECT id, (SELECT MIN(evidence_signature) FROM {rows} WHERE indication_id = {ind}.id)
    FROM {ind} WHERE id IN ({asked})
    UNION ALL
    SELECT indication_id, (
        SELECT MIN(evidence_signature) FROM {rows} later
        WHERE later.indication_id = signatures.indication_id
        AND later.evidence_signature > signatures.signature
    )
    FROM signatures WHERE signature IS NOT NULL
)
SELECT indication_id, signature, (
    SELECT {field} FROM {rows} best WHERE best.indication_id = signatures.indication_id
    AND best.evidence_signature = signatures.signature ORDER BY {field} DESC LIMIT 1
)
FROM signatures WHERE signature IS NOT NULL
"""

NTH_SQL = (
    "(SELECT {field} FROM {rows} WHERE indication_id = %s AND evidence_signature = %s "
    "ORDER BY {field} DESC LIMIT 1 OFFSET %s)"
)


# The signatures and their points change only with the match rows, that is with the
# products: kept per catalogue version and process, as the knowledge snapshot is, so that a
# match reads the rows of its page and not the signatures of the whole catalogue each time.
# Keyed per indication, field and database, so what is kept stays as small as the vocabulary.
signatures_kept = kept_per_version(dict, depends_on=COLLECTION_ANSWER)
# The depths are kept per page size asked as well (a client paging through thousands of pages
# would add entries without end): past this many entries a version keeps no more.
MAX_KEPT_DEPTHS = 20_000


def signature_groups(indication_ids: list[int], field: str) -> list[SignatureGroup]:
    """The evidence signatures of the asked indications' rows with their best points, best
    first: one query that skips through the index on (indication, signature, points), two
    probes per signature, whatever the catalogue's size; an indication's signatures are read
    once per catalogue version (``signatures_kept``).

    A product's rows all carry its signature, so a signature found under two asked
    indications is one group (its products and points are the same under both).
    """
    database = router.db_for_read(ProductIndication)
    kept = signatures_kept()
    missing = [pk for pk in indication_ids if ("groups", database, field, pk) not in kept]
    if missing:
        read: dict[int, list[tuple[str, float]]] = {pk: [] for pk in missing}
        with connections[database].cursor() as cursor:
            cursor.execute(groups_sql(len(missing), field), missing)
            for pk, signature, best in cursor.fetchall():
                read[pk].append((signature, best))
        for pk, signatures in read.items():
            kept["groups", database, field, pk] = tuple(signatures)
    found = {
        signature: (pk, best)
        for pk in indication_ids
        for signature, best in kept["groups", database, field, pk]
    }
    asked = tuple(indication_ids)
    groups = [
        SignatureGroup(signature, pk, signature_evidence_term(signature, asked), best)
        for signature, (pk, best) in found.items()
    ]
    return sorted(groups, key=lambda group: group.evidence + group.best_points, reverse=True)


def groups_sql(asked_count: int, field: str) -> str:
    """``GROUPS_SQL`` for ``asked_count`` indication ids as parameters."""
    return GROUPS_SQL.format(
        rows=ProductIndication._meta.db_table,
        ind=Indication._meta.db_table,
        asked=", ".join(["%s"] * asked_count),
        field=field,
    )


@functools.lru_cache(maxsize=4096)
def signature_evidence_term(signature: str, indication_ids: tuple[int, ...]) -> float:
    """The evidence term of the score (0-1) of a signature's products for the asked
    indications. Kept: the same hundred signatures come back on every request."""
    strengths = signature_evidence(signature)
    mean = evidence_value(
        (strengths.get(i, Decimal(0)) for i in indication_ids), len(indication_ids)
    )
    return float(w.EVIDENCE_WEIGHT * mean)


def nth_points(groups: list[SignatureGroup], field: str, rows: int) -> list[float | None]:
    """Per group the points of its ``rows``-th best product (None: it has fewer): one query,
    an index range of ``rows`` entries per group, for the groups not read before under this
    catalogue version (``signatures_kept``)."""
    database = router.db_for_read(ProductIndication)
    kept = signatures_kept()
    keys = [("nth", database, field, rows, g.indication_id, g.signature) for g in groups]
    found = {key: kept[key] for key in keys if key in kept}
    missing = [(key, g) for key, g in zip(keys, groups, strict=True) if key not in found]
    if missing:
        column = NTH_SQL.format(field=field, rows=ProductIndication._meta.db_table)
        with connections[database].cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join([column] * len(missing))}",
                [value for _, g in missing for value in (g.indication_id, g.signature, rows - 1)],
            )
            for (key, _), points in zip(missing, cursor.fetchone(), strict=True):
                found[key] = points
                if len(kept) < MAX_KEPT_DEPTHS:
                    kept[key] = points
    return [found[key] for key in keys]


def proven_target(groups: list[SignatureGroup], field: str, count: int, rows: int, slack: float):
    """A score (0-1) that at least ``rows`` products reach (or, where the groups' points prove
    none, ``count``), or None."""
    proven = []
    # ``count`` groups' best products are ``count`` products.
    if len(groups) >= count:
        proven.append(sorted(g.evidence + g.best_points for g in groups)[-count] - slack)
    # A group's rows-th product: ``rows`` products of that group at least that high. Only the
    # best groups can give the highest such score: one can give no more than its best.
    leaders = groups[:NTH_GROUPS]
    for group, nth in zip(leaders, nth_points(leaders, field, rows), strict=True):
        if nth is not None:
            proven.append(group.evidence + nth - slack)
    return max(proven) if proven else None


def top_matches(
    products: QuerySet[Product],
    *,
    indication_ids: list[int],
    jurisdiction: str,
    limit_mg: Decimal | None,
    count: int,
    headroom_slack: float = 0.0,
) -> list[Product]:
    """``ranked_matches(...)[:count]``, exactly, without ranking every match (a threshold scan).

    ``products``: a queryset, or the compiled candidates of ``best_ranked``.
    ``limit_mg``: the asked population's upper limit under ``jurisdiction``. ``headroom_slack``:
    how far (in points, 0-1) a product's points may lie from its stored ones: 0 when
    ``limit_mg`` is the adult limit the match rows were scored with; for another population's
    limit the headroom term alone changes, by at most its weight.

    The products of one evidence signature share their evidence term, so within it they rank
    by points. The target is a score that ``CANDIDATES_PER_RESULT * count`` products of one
    signature are proven to reach; every signature's products are read from the points at
    which they could reach it, so the ranking reads about those products, whatever the
    catalogue's size. Every product left out scores below the target, so when the
    ``count``-th result reaches it the page is proven; else one more ranking lowers the
    target to the ``count``-th score (only a population's slack does that). Filters that
    leave too few take a deeper target, then the whole ranking. Three queries, seldom four.
    """
    field = points_field(jurisdiction)
    groups = signature_groups(indication_ids, field)
    for rows in (CANDIDATES_PER_RESULT * count, CANDIDATES_PER_RESULT * WIDER_TRY * count):
        target = proven_target(groups, field, count, rows, headroom_slack) if groups else None
        if target is None:
            break
        # Scores as ranked_matches gives them (0-100); the floors in points (0-1).
        found = ranked_above(
            products, indication_ids, limit_mg, field, groups, target * 100, headroom_slack, count
        )
        if len(found) < count:  # the filters left too few: a deeper target, once
            continue
        last = found[-1].match_score
        if last >= target * 100:
            return found
        return ranked_above(
            products, indication_ids, limit_mg, field, groups, last, headroom_slack, count
        )
    # Filters that leave fewer than the page, or a catalogue too small to prove a target.
    return best_ranked(
        products, indication_ids=indication_ids, limit_mg=limit_mg, floors=None, count=count
    )


def ranked_above(
    products, indication_ids, limit_mg, field, groups, target: float, slack: float, count: int
) -> list[Product]:
    """The best ``count`` of the products that can score ``target`` (0-100) or more: each
    signature's products from the points at which they could; every product left out scores
    more than SCORE_MARGIN below ``target``."""
    return best_ranked(
        products,
        indication_ids=indication_ids,
        limit_mg=limit_mg,
        floors=(field, signature_floors(groups, target, slack)),
        count=count,
    )


def best_ranked(products, *, indication_ids, limit_mg, floors, count: int) -> list[Product]:
    """The first ``count`` of ``ranked_matches(products, ..., with_lines=True)``.

    ``products``: a queryset, or candidates that run the same ranking as a statement compiled
    for their shape (products.api.match_statement.CompiledCandidates), with the same rows."""
    if not isinstance(products, QuerySet):
        return products.best_ranked(
            indication_ids=indication_ids, limit_mg=limit_mg, floors=floors, count=count
        )
    ranking = ranked_matches(
        products, indication_ids=indication_ids, limit_mg=limit_mg, floors=floors, with_lines=True
    )
    return list(ranking[:count])


def signature_floors(groups, target: float, slack: float) -> list[tuple[str, float]]:
    """(signature, points) for each group that can score ``target`` (0-100): the points below
    which its products score more than SCORE_MARGIN below it."""
    cut = (target - SCORE_MARGIN) / 100
    return [(g.signature, g.floor(cut, slack)) for g in groups if g.reaches(cut, slack)]


@dataclass(frozen=True)
class TopMatchesPages:
    """``top_matches`` as the paginator slices a queryset: a page reads only what it shows."""

    products: QuerySet[Product]
    indication_ids: list[int]
    jurisdiction: str
    limit_mg: Decimal | None
    headroom_slack: float = 0.0

    def __getitem__(self, bounds: slice) -> list[Product]:
        return top_matches(
            self.products,
            indication_ids=self.indication_ids,
            jurisdiction=self.jurisdiction,
            limit_mg=self.limit_mg,
            count=bounds.stop,
            headroom_slack=self.headroom_slack,
        )[bounds]
