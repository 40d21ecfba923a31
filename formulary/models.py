"""The vocabulary every other layer speaks: references, indications, medications, intakes."""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from formulary.common.history import audit_history
from formulary.common.localization import localized
from formulary.enums import (
    IntakeKind,
    Jurisdiction,
    LifeStage,
    NutrientUnit,
    Sex,
    SignKind,
    Support,
    VerificationStatus,
    choices_check,
)

doi_validator = RegexValidator(r"^10\.\d{4,9}/\S+$", "A DOI looks like 10.1234/abc.")
pmid_validator = RegexValidator(r"^\d{1,9}$", "A PMID is a number of up to 9 digits.")


class Reference(models.Model):
    """A source that facts cite. ``key`` is the citation key used in the reference data."""

    key = models.CharField(_("key"), max_length=40, unique=True)
    citation = models.TextField(_("citation"))
    doi = models.CharField(_("DOI"), max_length=120, blank=True, validators=[doi_validator])
    pmid = models.CharField(_("PMID"), max_length=9, blank=True, validators=[pmid_validator])
    url = models.URLField(_("URL"), max_length=300, blank=True)
    status = models.CharField(
        _("verification status"), max_length=12, choices=VerificationStatus.choices
    )
    note = models.TextField(_("note"), blank=True)
    # Taurine and glycine papers support statements about the carrier molecule, not magnesium.
    about_carrier = models.BooleanField(_("about the carrier molecule"), default=False)

    history = audit_history()

    class Meta:
        verbose_name = _("reference")
        verbose_name_plural = _("references")
        ordering = ["key"]
        constraints = [choices_check("status", VerificationStatus, "reference_status_valid")]

    def __str__(self):
        return self.key


class Citation(models.Model):
    """Links a fact to a Reference. PROTECT: a cited source cannot vanish from under a fact."""

    reference = models.ForeignKey(
        Reference, on_delete=models.PROTECT, related_name="+", verbose_name=_("reference")
    )

    class Meta:
        abstract = True

    def __str__(self):
        return str(self.reference)


class Indication(models.Model):
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_nl = models.TextField(_("description (Dutch)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = audit_history()

    class Meta:
        verbose_name = _("indication")
        verbose_name_plural = _("indications")
        ordering = ["slug"]

    def __str__(self):
        # The admin names rows by __str__ (drop-downs, autocomplete, messages).
        return localized(self, "name")


class Nutrient(models.Model):
    """A nutrient other than magnesium that a product may contain (vitamin B6, zinc, ...)."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    unit = models.CharField(_("unit"), max_length=2, choices=NutrientUnit.choices)

    history = audit_history()

    class Meta:
        verbose_name = _("nutrient")
        verbose_name_plural = _("nutrients")
        ordering = ["slug"]
        constraints = [choices_check("unit", NutrientUnit, "nutrient_unit_valid")]

    def __str__(self):
        return localized(self, "name")


class Medication(models.Model):
    """A drug or drug class whose use interacts with magnesium."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    examples = models.CharField(_("examples"), max_length=300, blank=True)

    history = audit_history()

    class Meta:
        verbose_name = _("medication")
        verbose_name_plural = _("medications")
        ordering = ["slug"]

    def __str__(self):
        return localized(self, "name")


class ReferenceIntake(models.Model):
    """A reference intake or upper limit for one population band: data, not constants."""

    jurisdiction = models.CharField(_("jurisdiction"), max_length=2, choices=Jurisdiction.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=IntakeKind.choices)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, default=Sex.ANY)
    life_stage = models.CharField(
        _("life stage"), max_length=10, choices=LifeStage.choices, default=LifeStage.GENERAL
    )
    age_from_months = models.PositiveSmallIntegerField(_("age from (months)"))
    age_to_months = models.PositiveSmallIntegerField(
        _("age up to (months)"),
        null=True,
        blank=True,
        help_text=_("Exclusive; empty means no upper bound."),
    )
    amount_mg = models.DecimalField(
        _("amount (mg)"), max_digits=7, decimal_places=1, validators=[MinValueValidator(0)]
    )
    split_dose_advised = models.BooleanField(_("split dose advised"), default=False)
    status = models.CharField(
        _("verification status"), max_length=12, choices=VerificationStatus.choices
    )
    note_nl = models.TextField(_("note (Dutch)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    references = models.ManyToManyField(
        Reference,
        through="ReferenceIntakeCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("reference intake")
        verbose_name_plural = _("reference intakes")
        ordering = ["jurisdiction", "kind", "life_stage", "sex", "age_from_months", "id"]
        constraints = [
            choices_check("jurisdiction", Jurisdiction, "intake_jurisdiction_valid"),
            choices_check("kind", IntakeKind, "intake_kind_valid"),
            choices_check("sex", Sex, "intake_sex_valid"),
            choices_check("life_stage", LifeStage, "intake_life_stage_valid"),
            choices_check("status", VerificationStatus, "intake_status_valid"),
            models.CheckConstraint(condition=Q(amount_mg__gt=0), name="intake_amount_positive"),
            models.CheckConstraint(
                condition=Q(age_to_months__isnull=True)
                | Q(age_to_months__gt=models.F("age_from_months")),
                name="intake_age_band_ordered",
            ),
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "sex", "life_stage", "age_from_months"],
                name="intake_band_unique",
            ),
        ]

    def __str__(self):
        upper = f"{self.age_to_months}" if self.age_to_months is not None else "∞"
        return (
            f"{self.get_jurisdiction_display()} {self.kind} {self.sex}/{self.life_stage} "
            f"{self.age_from_months}-{upper} mo: {self.amount_mg} mg"
        )


class NotedTerm(models.Model):
    """A named term with a sourced note on how far it holds (risk groups, deficiency signs)."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    status = models.CharField(
        _("verification status"), max_length=12, choices=VerificationStatus.choices
    )
    note_nl = models.TextField(_("note (Dutch)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)

    class Meta:
        abstract = True
        ordering = ["slug"]

    def __str__(self):
        return localized(self, "name")


class RiskGroup(NotedTerm):
    """A group at risk of magnesium deficiency, with how well the sources support it."""

    support = models.CharField(_("support by sources"), max_length=10, choices=Support.choices)
    indications = models.ManyToManyField(
        Indication, related_name="risk_groups", blank=True, verbose_name=_("indications")
    )
    references = models.ManyToManyField(
        Reference,
        through="RiskGroupCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history(m2m_fields=["indications"])

    class Meta(NotedTerm.Meta):
        verbose_name = _("risk group")
        verbose_name_plural = _("risk groups")
        constraints = [
            choices_check("support", Support, "risk_group_support_valid"),
            choices_check("status", VerificationStatus, "risk_group_status_valid"),
        ]


class DeficiencySign(NotedTerm):
    """A sign of deficiency, or a condition merely associated with low magnesium."""

    kind = models.CharField(_("kind"), max_length=12, choices=SignKind.choices)
    indications = models.ManyToManyField(
        Indication, related_name="deficiency_signs", blank=True, verbose_name=_("indications")
    )
    references = models.ManyToManyField(
        Reference,
        through="DeficiencySignCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history(m2m_fields=["indications"])

    class Meta(NotedTerm.Meta):
        verbose_name = _("deficiency sign")
        verbose_name_plural = _("deficiency signs")
        constraints = [
            choices_check("kind", SignKind, "sign_kind_valid"),
            choices_check("status", VerificationStatus, "sign_status_valid"),
        ]


class ReferenceIntakeCitation(Citation):
    reference_intake = models.ForeignKey(
        ReferenceIntake, on_delete=models.CASCADE, verbose_name=_("reference intake")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a reference intake")
        verbose_name_plural = _("cited references of reference intakes")
        constraints = [
            models.UniqueConstraint(
                fields=["reference_intake", "reference"], name="intake_citation_unique"
            )
        ]


class RiskGroupCitation(Citation):
    risk_group = models.ForeignKey(
        RiskGroup, on_delete=models.CASCADE, verbose_name=_("risk group")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a risk group")
        verbose_name_plural = _("cited references of risk groups")
        constraints = [
            models.UniqueConstraint(fields=["risk_group", "reference"], name="risk_citation_unique")
        ]


class DeficiencySignCitation(Citation):
    deficiency_sign = models.ForeignKey(
        DeficiencySign, on_delete=models.CASCADE, verbose_name=_("deficiency sign")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a deficiency sign")
        verbose_name_plural = _("cited references of deficiency signs")
        constraints = [
            models.UniqueConstraint(
                fields=["deficiency_sign", "reference"], name="sign_citation_unique"
            )
        ]
