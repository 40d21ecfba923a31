"""The match score in SQL, so the database ranks the whole catalogue and Python explains a page.

Every formula here restates one of products/matching.py from the same constants
(products/match_weights.py); tests/test_matching.py holds the two versions equal.
"""

import itertools
from decimal import Decimal

from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import NullIf, Round
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from products import match_weights as w
from products.matching import Points, headroom_points
from products.models import Product

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


def stored(field: str) -> Round:
    """A stored Decimal column at its declared places, as Python reads it back: SQLite keeps
    whatever precision was written, PostgreSQL rounds on write."""
    return Round(field, Product._meta.get_field(field).decimal_places)


MG_PER_DAY = stored("elemental_mg_per_day")


def dose_sql() -> Case:
    return curve_sql(w.DOSE_CURVE, MG_PER_DAY)


def headroom_sql(limit_mg: Decimal | None):
    if limit_mg is None:
        return number(1)
    return curve_sql(headroom_points(limit_mg), MG_PER_DAY, above=limit_mg, above_value=0)


def price_sql() -> Case:
    package_mg = (
        NullIf(stored("elemental_mg_per_serving"), number(0)) * F("units_per_package")
        / F("units_per_serving")
    )
    euro_per_100mg = float_expression(F("price_eur") * number(100) / package_mg)
    return Case(
        When(
            Q(price_eur__isnull=True) | Q(elemental_mg_per_serving__lte=0),
            then=number(w.PRICE_UNKNOWN),
        ),
        default=curve_sql(w.PRICE_CURVE, euro_per_100mg),
        output_field=SCORE_FIELD,
    )


def ranked_matches(
    products: QuerySet[Product], *, indication_slugs: list[str], limit_mg: Decimal | None
) -> QuerySet[Product]:
    """``products`` linked to any of the indications, annotated with ``match_score``, best first.

    The join to the stored ProductIndication rows of the asked indications both selects the
    matches and sums their evidence; an asked indication a product lacks adds nothing.
    """
    evidence = float_expression(
        F("evidence_total") / number(len(indication_slugs))
    )
    weighted = (
        number(w.EVIDENCE_WEIGHT) * evidence
        + number(w.DOSE_WEIGHT) * dose_sql()
        + number(w.HEADROOM_WEIGHT) * headroom_sql(limit_mg)
        + number(w.TOLERABILITY_WEIGHT) * F("tolerability_value")
        + number(w.PRICE_WEIGHT) * price_sql()
    )
    return (
        products.filter(indication_matches__indication__slug__in=indication_slugs)
        .annotate(
            evidence_total=Sum("indication_matches__evidence_strength"),
            tolerability_value=Max("indication_matches__tolerability"),
        )
        .annotate(match_score=float_expression(number(100) * weighted))
        .order_by(Round("match_score", w.SCORE_ORDER_PLACES).desc(), "gtin")
    )
