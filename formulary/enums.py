from django.db import models
from django.utils.translation import gettext_lazy as _


class VerificationStatus(models.TextChoices):
    """How far a fact was checked, as the reference data tags it ([V], [S], [U], disputed)."""

    VERIFIED = "verified", _("verified")
    SECONDARY = "secondary", _("secondary source only")
    UNVERIFIED = "unverified", _("unverified")
    DISPUTED = "disputed", _("disputed")


class Jurisdiction(models.TextChoices):
    EU = "eu", "EU"
    US = "us", "US"


class IntakeKind(models.TextChoices):
    NRV = "nrv", _("nutrient reference value (labelling)")
    ADEQUATE_INTAKE = "adequate_intake", _("adequate intake")
    RDA = "rda", _("recommended dietary allowance")
    DAILY_VALUE = "daily_value", _("daily value (labelling)")
    UPPER_LIMIT = "upper_limit", _("tolerable upper intake level, supplemental")


class Sex(models.TextChoices):
    ANY = "any", _("any")
    MALE = "male", _("male")
    FEMALE = "female", _("female")


class LifeStage(models.TextChoices):
    GENERAL = "general", _("general")
    PREGNANCY = "pregnancy", _("pregnancy")
    LACTATION = "lactation", _("lactation")


class NutrientUnit(models.TextChoices):
    MG = "mg", "mg"
    UG = "ug", "µg"


class Support(models.TextChoices):
    SUPPORTED = "supported", _("supported by sources")
    WEAK = "weak", _("weak support")
    HYPOTHESIS = "hypothesis", _("hypothesis")


class SignKind(models.TextChoices):
    SIGN = "sign", _("sign of deficiency")
    # Cardiovascular disease and type 2 diabetes go with low magnesium; they are not symptoms.
    ASSOCIATION = "association", _("associated condition, not a symptom")


class MedicationKind(models.TextChoices):
    """What a medication row names: rules attach to a class and are overridden further down."""

    CLASS = "class", _("drug class")
    SUBSTANCE = "substance", _("substance (INN)")
    COMBINATION = "combination", _("combination product")


class ClaimNutrient(models.TextChoices):
    """The nutrients whose EU-authorised health claims the formulary holds.

    Magnesium is the product's elemental magnesium; the others are ``Nutrient`` slugs.
    """

    MAGNESIUM = "magnesium", _("magnesium")
    VITAMIN_B6 = "vitamin-b6", _("vitamin B6")


class WordingStatus(models.TextChoices):
    """How far a claim's wording was checked, as eu-claims.md tags it ([V], [S], [U], [U-tr]).

    Only ``verified`` is the Official Journal's text read as such; an own translation is never
    to be shown as the official wording.
    """

    VERIFIED = "verified", _("official text, read in the Official Journal")
    SECONDARY = "secondary", _("register wording as copied by third parties")
    UNVERIFIED = "unverified", _("unverified wording")
    OWN_TRANSLATION = "own_translation", _("our own translation, not the official text")


class ClaimBasis(models.TextChoices):
    """The quantity of product a "source of" condition is tested on.

    Annex XIII also names per 100 g and per 100 ml; a product here states its amounts per
    serving and day, not its weight, so the daily dose is the only basis it can be tested on.
    """

    PER_DAILY_DOSE = "per_daily_dose", _("per daily dose")


def choices_check(field: str, choices: type[models.TextChoices], name: str):
    """A database CHECK that keeps ``field`` within ``choices``; choices alone do not."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)
