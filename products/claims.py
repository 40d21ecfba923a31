"""Whether a product is a "source of" a nutrient: pure functions on Decimal, the one home of it.

Every magnesium and vitamin B6 claim of Reg. (EU) No 432/2012 may be used only for a food that
is at least a source of the nutrient: it contains at least ``minimum_percent_of_nrv`` (15 %)
of the NRV (Reg. 1169/2011 Annex XIII Part A), here per daily dose. The threshold is
``nrv_mg * minimum_percent / 100`` (magnesium 375 * 15 / 100 = 56.25 mg, vitamin B6
1.4 * 15 / 100 = 0.21 mg), computed, never typed in. The comparison is on the unrounded
amount: rounding first would let 56.2 mg pass as "15 %".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from formulary.common.numbers import half_up

HUNDRED = Decimal(100)
MICROGRAMS_PER_MG = Decimal(1000)
# Percentages are stated in whole numbers ("26 % of the NRV"), amounts to at least one
# decimal (three significant digits of the threshold: see ``amount_places``).
PERCENT_PLACES = 0
AMOUNT_PLACES = 1


@dataclass(frozen=True)
class SourceOfThreshold:
    nutrient: str
    nrv_mg: Decimal
    minimum_percent_of_nrv: Decimal

    @property
    def minimum_mg(self) -> Decimal:
        return self.nrv_mg * self.minimum_percent_of_nrv / HUNDRED


@dataclass(frozen=True)
class SourceOfVerdict:
    """One nutrient of one product against its rule; ``amount_mg`` and ``percent`` unrounded."""

    threshold: SourceOfThreshold
    amount_mg: Decimal
    percent_of_nrv: Decimal
    qualifies: bool


def source_of_verdict(amount_mg_per_day: Decimal, threshold: SourceOfThreshold) -> SourceOfVerdict:
    return SourceOfVerdict(
        threshold=threshold,
        amount_mg=amount_mg_per_day,
        percent_of_nrv=amount_mg_per_day / threshold.nrv_mg * HUNDRED,
        qualifies=amount_mg_per_day >= threshold.minimum_mg,
    )


def amount_mg(amount: Decimal, unit: str) -> Decimal:
    """A nutrient line's amount in mg; lines state it in the nutrient's unit (mg or ug)."""
    return amount / MICROGRAMS_PER_MG if unit == "ug" else amount


def minimum_in_unit(minimum_mg: Decimal, unit: str) -> Decimal:
    """The threshold in a nutrient line's own unit, for comparing stored amounts with it."""
    return minimum_mg * MICROGRAMS_PER_MG if unit == "ug" else minimum_mg


def nutrient_mg_per_day(
    lines: Iterable[tuple[str, str, Decimal]], servings_per_day: Decimal
) -> dict[str, Decimal]:
    """(slug, unit, amount per serving) lines as mg per daily dose, by nutrient slug."""
    return {slug: amount_mg(amount, unit) * servings_per_day for slug, unit, amount in lines}


def stated(value: Decimal, places: int, *, minimum: Decimal) -> Decimal:
    """``value`` rounded half up to ``places``, with as many more decimals as it takes for the
    stated figure to fall on the same side of ``minimum`` as the value itself.

    A product at 56.249 mg reads "56.2 mg" and "14.9997 %", never "15 %"; one at 0.2095 mg of
    vitamin B6 reads "0.2095 mg", never "0.21 mg". The loop ends at the latest where the
    figure is the value itself.
    """
    figure = half_up(value, places)
    while (figure >= minimum) != (value >= minimum):
        places += 1
        figure = half_up(value, places)
    return figure


def amount_places(minimum_mg: Decimal) -> int:
    """Decimals that show the threshold's own precision: 56.25 mg -> 1, 0.21 mg -> 3."""
    return max(AMOUNT_PLACES, 2 - minimum_mg.adjusted())


@dataclass(frozen=True)
class StatedVerdict:
    """The figures of a verdict as a sentence states them, rounded half up once, here."""

    amount_mg: Decimal
    percent_of_nrv: Decimal
    minimum_mg: Decimal
    minimum_percent_of_nrv: Decimal
    nrv_mg: Decimal


def stated_verdict(verdict: SourceOfVerdict) -> StatedVerdict:
    threshold = verdict.threshold
    return StatedVerdict(
        amount_mg=stated(
            verdict.amount_mg,
            amount_places(threshold.minimum_mg),
            minimum=threshold.minimum_mg,
        ),
        percent_of_nrv=stated(
            verdict.percent_of_nrv, PERCENT_PLACES, minimum=threshold.minimum_percent_of_nrv
        ),
        minimum_mg=threshold.minimum_mg.normalize(),
        minimum_percent_of_nrv=threshold.minimum_percent_of_nrv.normalize(),
        nrv_mg=threshold.nrv_mg.normalize(),
    )
