"""The match score in Python: pure functions on Decimal, no ORM.

products/matching/ranking.py states the same formulas in SQL to rank the catalogue; this
module explains the page of results. The constants live in products/matching/weights.py.
"""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from products.matching import weights as w

Points = Sequence[tuple[Decimal, Decimal]]


def interpolate(points: Points, x: Decimal) -> Decimal:
    """Straight lines between ``points`` (x ascending), flat beyond the first and last."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (x - x0) * (y1 - y0) / (x1 - x0)
    return points[-1][1]


def link_strength(grade: str, basis: str) -> Decimal:
    """Evidence value of one compound-indication link."""
    return w.GRADE_STRENGTH[grade] * w.CARRIER_BASIS_FACTOR[basis]


def evidence_value(best_strength_per_indication: Iterable[Decimal], asked_count: int) -> Decimal:
    """The mean over the asked indications of the best link's value; uncovered ones count 0."""
    return sum(best_strength_per_indication, Decimal(0)) / asked_count


def dose_value(mg_per_day: Decimal) -> Decimal:
    return interpolate(w.DOSE_CURVE, mg_per_day)


def headroom_points(limit_mg: Decimal) -> Points:
    return ((limit_mg * w.HEADROOM_COMFORT_SHARE, Decimal(1)), (limit_mg, w.HEADROOM_AT_LIMIT))


def headroom_value(mg_per_day: Decimal, limit_mg: Decimal | None) -> Decimal:
    """1 well under the limit, 0.5 at it, 0 above it; 1 where no limit is known."""
    if limit_mg is None:
        return Decimal(1)
    if mg_per_day > limit_mg:
        return Decimal(0)
    return interpolate(headroom_points(limit_mg), mg_per_day)


def worst_tendency(tendencies: Iterable[str]) -> str:
    return min(tendencies, key=lambda tendency: w.TOLERABILITY[tendency])


def tolerability_value(tendencies: Iterable[str]) -> Decimal:
    return w.TOLERABILITY[worst_tendency(tendencies)]


def price_per_100mg(
    *,
    price_eur: Decimal | None,
    elemental_mg_per_serving: Decimal,
    units_per_serving: Decimal,
    units_per_package: int,
) -> Decimal | None:
    """Euro per 100 mg elemental magnesium in the package; None without a price or magnesium."""
    if price_eur is None or elemental_mg_per_serving <= 0:
        return None
    package_mg = elemental_mg_per_serving * units_per_package / units_per_serving
    return price_eur * 100 / package_mg


def price_value(euro_per_100mg: Decimal | None) -> Decimal:
    if euro_per_100mg is None:
        return w.PRICE_UNKNOWN
    return interpolate(w.PRICE_CURVE, euro_per_100mg)


@dataclass(frozen=True)
class Factor:
    value: Decimal
    weight: Decimal

    @property
    def points(self) -> Decimal:
        """This component's share of the 0-100 score."""
        return self.value * self.weight * 100


@dataclass(frozen=True)
class MatchInput:
    """What the score of one product needs, already read from the database."""

    best_strength_per_indication: dict[str, Decimal]
    asked_count: int
    mg_per_day: Decimal
    limit_mg: Decimal | None
    tendencies: tuple[str, ...]
    euro_per_100mg: Decimal | None


def factors(data: MatchInput) -> dict[str, Factor]:
    values = {
        "evidence": evidence_value(data.best_strength_per_indication.values(), data.asked_count),
        "dose": dose_value(data.mg_per_day),
        "headroom": headroom_value(data.mg_per_day, data.limit_mg),
        "tolerability": tolerability_value(data.tendencies),
        "price": price_value(data.euro_per_100mg),
    }
    return {name: Factor(value=values[name], weight=weight) for name, weight in w.WEIGHTS.items()}


def score(parts: dict[str, Factor]) -> Decimal:
    return sum((factor.points for factor in parts.values()), Decimal(0))


def rank_key(score_value: Decimal, gtin: str) -> tuple[Decimal, str]:
    """Best first; equal scores (to SCORE_ORDER_PLACES) in GTIN order."""
    return (-round(score_value, w.SCORE_ORDER_PLACES), gtin)
