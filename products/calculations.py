"""Dose arithmetic for products: pure functions on Decimal, the one home of each formula.

A label states each magnesium compound per serving, either as mg of the compound or as mg of
elemental magnesium. The other value follows from the compound's elemental fraction.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from compounds.chemistry import compound_mg_for_elemental, elemental_magnesium_mg
from products.enums import AmountBasis

# A declared amount further than this from the computed one is flagged. Labels round to whole
# milligrams and quote one salt's percentage; 5 % covers rounding but not a wrong hydrate.
LABEL_MISMATCH_TOLERANCE = Decimal("0.05")


@dataclass(frozen=True)
class LineAmounts:
    compound_mg: Decimal
    elemental_mg: Decimal


@dataclass(frozen=True)
class DoseLine:
    amount_mg: Decimal
    amount_basis: str
    elemental_fraction: Decimal


@dataclass(frozen=True)
class ProductDose:
    elemental_mg_per_serving: Decimal
    elemental_mg_per_unit: Decimal
    elemental_mg_per_day: Decimal
    nrv_percent_per_day: Decimal | None
    exceeds_upper_limit: dict[str, bool]
    label_mismatch: bool | None


def line_amounts(line: DoseLine) -> LineAmounts:
    """Both the compound and the elemental mass of one line, per serving."""
    if line.amount_basis == AmountBasis.ELEMENTAL:
        return LineAmounts(
            compound_mg=compound_mg_for_elemental(line.amount_mg, line.elemental_fraction),
            elemental_mg=line.amount_mg,
        )
    return LineAmounts(
        compound_mg=line.amount_mg,
        elemental_mg=elemental_magnesium_mg(line.amount_mg, line.elemental_fraction),
    )


def elemental_mg_per_serving(lines: Iterable[DoseLine]) -> Decimal:
    return sum((line_amounts(line).elemental_mg for line in lines), Decimal(0))


def nrv_percent(elemental_mg: Decimal, nrv_mg: Decimal) -> Decimal:
    return elemental_mg / nrv_mg * 100


def label_disagrees(declared_mg: Decimal | None, computed_mg: Decimal) -> bool | None:
    """Whether a declared elemental amount is off by more than the tolerance; None if none."""
    if declared_mg is None:
        return None
    if computed_mg == 0:
        return declared_mg != 0
    return abs(declared_mg - computed_mg) / computed_mg > LABEL_MISMATCH_TOLERANCE


def product_dose(
    *,
    lines: Iterable[DoseLine],
    units_per_serving: Decimal,
    servings_per_day: Decimal,
    label_elemental_mg_per_serving: Decimal | None,
    nrv_mg: Decimal | None,
    upper_limits_mg: Mapping[str, Decimal],
) -> ProductDose:
    """Everything derived from a product's lines.

    ``upper_limits_mg`` maps a jurisdiction to its adult supplemental upper limit in mg/day.
    """
    per_serving = elemental_mg_per_serving(lines)
    per_day = per_serving * servings_per_day
    return ProductDose(
        elemental_mg_per_serving=per_serving,
        elemental_mg_per_unit=per_serving / units_per_serving,
        elemental_mg_per_day=per_day,
        nrv_percent_per_day=nrv_percent(per_day, nrv_mg) if nrv_mg else None,
        exceeds_upper_limit={
            jurisdiction: per_day > limit for jurisdiction, limit in upper_limits_mg.items()
        },
        label_mismatch=label_disagrees(label_elemental_mg_per_serving, per_serving),
    )
