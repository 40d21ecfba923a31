from django.db import models
from django.utils.translation import gettext_lazy as _


class Classification(models.TextChoices):
    """Supplement-industry convention: a carbon-containing counter-ion makes a salt organic.

    This is not a bioavailability class: inorganic chloride is absorbed as well as organic
    lactate and aspartate (Firoz 2001).
    """

    ORGANIC = "organic", _("organic")
    INORGANIC = "inorganic", _("inorganic")


class SolubilityTerm(models.TextChoices):
    """Ph. Eur. descriptive terms for solubility in water."""

    VERY_SOLUBLE = "very-soluble", _("very soluble")
    FREELY_SOLUBLE = "freely-soluble", _("freely soluble")
    SOLUBLE = "soluble", _("soluble")
    SPARINGLY_SOLUBLE = "sparingly-soluble", _("sparingly soluble")
    SLIGHTLY_SOLUBLE = "slightly-soluble", _("slightly soluble")
    VERY_SLIGHTLY_SOLUBLE = "very-slightly-soluble", _("very slightly soluble")
    PRACTICALLY_INSOLUBLE = "practically-insoluble", _("practically insoluble")


class StomachAcidDependence(models.TextChoices):
    YES = "yes", _("yes")
    PARTLY = "partly", _("partly")
    NO = "no", _("no")


class LaxativeTendency(models.TextChoices):
    LOW = "low", _("low")
    MODERATE = "moderate", _("moderate")
    HIGH = "high", _("high")


class TimeOfDay(models.TextChoices):
    MORNING = "morning", _("morning")
    EVENING = "evening", _("evening")
    EITHER = "either", _("morning or evening")


class FoodRelation(models.TextChoices):
    EMPTY_STOMACH_PREFERRED = "empty-stomach-preferred", _("preferably on an empty stomach")
    WITH_MEAL = "with-meal", _("with a meal")
    EITHER = "either", _("with or without food")


class EvidenceGrade(models.TextChoices):
    A = "A", _("A: consistent trials")
    B = "B", _("B: at least one trial")
    C = "C", _("C: observational or mechanistic")
    D = "D", _("D: practice recommendation or expert opinion")


class EvidenceBasis(models.TextChoices):
    """Whether a rationale rests on magnesium itself or on the carrier molecule."""

    MAGNESIUM = "magnesium", _("magnesium")
    CARRIER = "carrier", _("carrier molecule")


class Mechanism(models.TextChoices):
    CHELATION = "chelation", _("chelation")
    ABSORPTION = "absorption", _("reduced absorption")
    DEPLETION = "depletion", _("magnesium depletion")
    RETENTION = "retention", _("magnesium retention")
    PHARMACODYNAMIC = "pharmacodynamic", _("pharmacodynamic")


class InteractionAction(models.TextChoices):
    SPACING = "spacing", _("space the intakes")
    MONITORING = "monitoring", _("monitor magnesium")
    CAUTION = "caution", _("caution")
    INFORMATION = "information", _("information")


# What a pharmacist does about each mechanism. Only spacing rules carry hours.
ACTION_FOR_MECHANISM = {
    Mechanism.CHELATION: InteractionAction.SPACING,
    Mechanism.ABSORPTION: InteractionAction.SPACING,
    Mechanism.DEPLETION: InteractionAction.MONITORING,
    Mechanism.RETENTION: InteractionAction.CAUTION,
    Mechanism.PHARMACODYNAMIC: InteractionAction.INFORMATION,
}
SPACING_MECHANISMS = [m for m, a in ACTION_FOR_MECHANISM.items() if a == InteractionAction.SPACING]


class Severity(models.TextChoices):
    MINOR = "minor", _("minor")
    MODERATE = "moderate", _("moderate")
    MAJOR = "major", _("major")
