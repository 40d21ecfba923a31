"""Conditions on products that the admin's list filters and its dashboard share.

Each returns a ``Q`` or ``Exists`` usable in ``filter()`` and in ``Count(filter=...)`` alike, so
a dashboard number and the list it links to always agree.
"""

from decimal import Decimal

from django.db.models import Exists, F, Q

from products.calculations import LABEL_MISMATCH_TOLERANCE
from products.selectors import with_ingredient


def has_ingredient_where(**compound_lookups) -> Exists:
    """Products with at least one line whose compound matches, e.g. ``slug="magnesium-oxide"``."""
    lookups = {f"compound__{name}": value for name, value in compound_lookups.items()}
    return with_ingredient(**lookups)


def fits_indication(indication_slug: str) -> Exists:
    """Products with a compound that an evidence link ties to the indication."""
    return has_ingredient_where(evidence__indication__slug=indication_slug)


def over_upper_limit(limit_mg: Decimal) -> Q:
    """Products whose stored elemental mg per day exceeds ``limit_mg``."""
    return Q(elemental_mg_per_day__gt=limit_mg)


def label_mismatch() -> Q:
    """The SQL twin of ``calculations.label_disagrees`` on the stored amount per serving.

    |declared - computed| / computed > tolerance, rewritten without the division so that a
    computed amount of 0 needs no case of its own: then any positive declaration disagrees.
    """
    computed = F("elemental_mg_per_serving")
    return Q(label_elemental_mg_per_serving__gt=computed * (1 + LABEL_MISMATCH_TOLERANCE)) | Q(
        label_elemental_mg_per_serving__lt=computed * (1 - LABEL_MISMATCH_TOLERANCE)
    )


def label_agrees() -> Q:
    """Products with a declared amount within the tolerance of the computed one."""
    computed = F("elemental_mg_per_serving")
    return Q(
        label_elemental_mg_per_serving__gte=computed * (1 - LABEL_MISMATCH_TOLERANCE),
        label_elemental_mg_per_serving__lte=computed * (1 + LABEL_MISMATCH_TOLERANCE),
    )


def label_undeclared() -> Q:
    return Q(label_elemental_mg_per_serving__isnull=True)
