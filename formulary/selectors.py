"""Reads of the vocabulary layer."""

from decimal import Decimal

from django.db.models import Q, QuerySet

from formulary.enums import IntakeKind, Jurisdiction, LifeStage, Sex
from formulary.models import ReferenceIntake

ADULT_AGE_MONTHS = 18 * 12


def intakes_for_age(*, kind: str, age_months: int) -> QuerySet[ReferenceIntake]:
    """General-population bands of ``kind`` that cover ``age_months``, for any sex."""
    return ReferenceIntake.objects.filter(
        kind=kind,
        sex=Sex.ANY,
        life_stage=LifeStage.GENERAL,
        age_from_months__lte=age_months,
    ).filter(Q(age_to_months__isnull=True) | Q(age_to_months__gt=age_months))


def adult_upper_limits_mg() -> dict[str, Decimal]:
    """Supplemental upper limit for adults per jurisdiction, e.g. {"eu": 250, "us": 350}."""
    rows = intakes_for_age(kind=IntakeKind.UPPER_LIMIT, age_months=ADULT_AGE_MONTHS)
    return {row.jurisdiction: row.amount_mg for row in rows.order_by("jurisdiction")}


def adult_nrv_mg(jurisdiction: str = Jurisdiction.EU) -> Decimal | None:
    """The labelling reference value for adults (EU NRV 375 mg), or None if not loaded."""
    row = (
        intakes_for_age(kind=IntakeKind.NRV, age_months=ADULT_AGE_MONTHS)
        .filter(jurisdiction=jurisdiction)
        .first()
    )
    return row.amount_mg if row else None


def adult_upper_limit(jurisdiction: str) -> ReferenceIntake | None:
    """The adult supplemental upper-limit row of one jurisdiction, with its split-dose advice."""
    return (
        intakes_for_age(kind=IntakeKind.UPPER_LIMIT, age_months=ADULT_AGE_MONTHS)
        .filter(jurisdiction=jurisdiction)
        .first()
    )


def band_overlaps(row, population) -> bool:
    """Whether the age band of ``row`` (an intake or limit) meets the population's band."""
    row_end = row.age_to_months if row.age_to_months is not None else float("inf")
    population_end = (
        population.age_to_months if population.age_to_months is not None else float("inf")
    )
    return row.age_from_months < population_end and population.age_from_months < row_end


def rows_for_population(rows, population) -> list:
    """The rows of ``rows`` for the population: its own life stage and an overlapping age band.

    A general row never stands in for pregnancy or lactation: a life stage finds only its own
    rows, so a limit the sources did not state for it is not borrowed.
    """
    return [
        row
        for row in rows
        if row.life_stage == population.life_stage and band_overlaps(row, population)
    ]


def strictest(rows, amount=lambda row: row.amount_mg):
    """The lowest limit among ``rows`` (a band that meets two rows keeps the stricter), or None."""
    rows = list(rows)
    return min(rows, key=lambda row: (amount(row), row.age_from_months)) if rows else None
