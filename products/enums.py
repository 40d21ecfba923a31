from django.db import models
from django.utils.translation import gettext_lazy as _


class DosageForm(models.TextChoices):
    CAPSULE = "capsule", _("capsule")
    TABLET = "tablet", _("tablet")
    CHEWABLE_TABLET = "chewable-tablet", _("chewable tablet")
    EFFERVESCENT_TABLET = "effervescent-tablet", _("effervescent tablet")
    POWDER = "powder", _("powder")
    LIQUID = "liquid", _("liquid")


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    DISCONTINUED = "discontinued", _("discontinued")


class AmountBasis(models.TextChoices):
    """What the label's amount measures: the compound's mass or the magnesium in it."""

    COMPOUND = "compound", _("mg of the compound")
    ELEMENTAL = "elemental", _("mg of elemental magnesium")


class ImportJobStatus(models.TextChoices):
    """Where a spreadsheet import run in the background stands."""

    QUEUED = "queued", _("waiting for a worker")
    RUNNING = "running", _("running")
    PREVIEWED = "previewed", _("checked, waiting for confirmation")
    REJECTED = "rejected", _("the file has problems; nothing was saved")
    IMPORTED = "imported", _("imported")
    FAILED = "failed", _("the file could not be read; nothing was saved")
