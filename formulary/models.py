"""The vocabulary every other layer speaks: references, indications, medications, intakes."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from formulary.common.history import audit_history
from formulary.common.localization import localized
from formulary.common.localized_numbers import number_text
from formulary.common.models import CatalogueVersion  # noqa: F401  (registered with this app)
from formulary.common.search import search_key
from formulary.enums import (
    ClaimBasis,
    ClaimNutrient,
    IntakeKind,
    Jurisdiction,
    LifeStage,
    MedicationKind,
    NutrientUnit,
    Sex,
    SignKind,
    Support,
    VerificationStatus,
    WordingStatus,
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


atc_validator = RegexValidator(
    r"^[A-V][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$",
    "An ATC code looks like J01MA02 (or a shorter level such as J01MA).",
)


class Medication(models.Model):
    """A drug class, a substance (INN) or a combination product that interacts with magnesium.

    ``parent`` is the class a substance belongs to, or the substance whose rules a combination
    product inherits; a rule on a row replaces the same mechanism's rule further up, so an
    override is only stored where a label differs from its class.
    """

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=MedicationKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("parent"),
    )
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    atc_code = models.CharField(_("ATC code"), max_length=7, blank=True, validators=[atc_validator])
    brand_names = models.JSONField(
        _("brand names"),
        default=list,
        blank=True,
        help_text=_("Brand names sold in the Netherlands and Belgium."),
    )
    # Some labels ask for the medicine alone, first thing on an empty stomach, with nothing else
    # (food, drink or medicine) for this long afterwards: oral bisphosphonates.
    taken_alone_minutes = models.PositiveSmallIntegerField(
        _("minutes taken alone"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24 * 60)],
        help_text=_("Taken first thing in the day, and nothing else for this many minutes."),
    )
    # Derived on every save from the slug, names and brand names: lower case, accents removed,
    # so that search works alike on SQLite and PostgreSQL without unaccent.
    search_text = models.TextField(_("search text"), editable=False, default="")
    references = models.ManyToManyField(
        Reference,
        through="MedicationCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("medication")
        verbose_name_plural = _("medications")
        ordering = ["slug"]
        constraints = [
            choices_check("kind", MedicationKind, "medication_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=MedicationKind.CLASS) | Q(parent__isnull=True),
                name="medication_class_has_no_parent",
            ),
            models.CheckConstraint(
                condition=~Q(kind=MedicationKind.COMBINATION) | Q(parent__isnull=False),
                name="medication_combination_has_parent",
            ),
        ]

    def __str__(self):
        return localized(self, "name")

    def save(self, *args, **kwargs):
        self.search_text = search_key(self.slug, self.name_nl, self.name_en, *self.brand_names)
        super().save(*args, **kwargs)

    def clean(self):
        if not isinstance(self.brand_names, list) or not all(
            isinstance(name, str) and name.strip() for name in self.brand_names
        ):
            raise ValidationError(
                {"brand_names": "A list of brand names, each a non-empty text."},
                code="invalid_brand_names",
            )
        if self.parent_id is not None:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": "A medication cannot be its own parent."})
            expected = (
                MedicationKind.CLASS
                if self.kind == MedicationKind.SUBSTANCE
                else MedicationKind.SUBSTANCE
            )
            if self.kind == MedicationKind.CLASS or self.parent.kind != expected:
                raise ValidationError(
                    {
                        "parent": "A substance belongs to a class; a combination product to the "
                        "substance whose rules it inherits."
                    },
                    code="invalid_parent",
                )


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


class MedicationCitation(Citation):
    """A source for a medication row, with what it states about taking the medicine alone."""

    medication = models.ForeignKey(
        Medication, on_delete=models.CASCADE, verbose_name=_("medication")
    )
    stated_alone_minutes = models.PositiveSmallIntegerField(
        _("stated minutes alone"),
        null=True,
        blank=True,
        help_text=_("Minutes with nothing else after the medicine, as this source states them."),
    )
    stated = models.TextField(
        _("stated"), blank=True, help_text=_("What the source says, in its own terms.")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a medication")
        verbose_name_plural = _("cited references of medications")
        constraints = [
            models.UniqueConstraint(
                fields=["medication", "reference"], name="medication_citation_unique"
            )
        ]


class SourceOfRule(models.Model):
    """The condition of use shared by a nutrient's claims: the food is at least a "source of" it.

    Reg. (EC) No 1924/2006 (Annex, "source of") asks for a significant amount as Annex XIII
    Part A of Reg. (EU) No 1169/2011 sets it: a percentage of the NRV. The threshold in mg is
    computed from the two stored numbers (products.claims), never typed in.
    """

    nutrient = models.CharField(
        _("nutrient"), max_length=20, choices=ClaimNutrient.choices, unique=True
    )
    nrv_mg = models.DecimalField(
        _("NRV (mg)"),
        max_digits=8,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("The nutrient reference value of Reg. 1169/2011 Annex XIII Part A, in mg."),
    )
    minimum_percent_of_nrv = models.DecimalField(
        _("minimum percentage of the NRV"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("The significant amount as a percentage of the NRV (15 for supplements)."),
    )
    rule_status = models.CharField(
        _("rule status"), max_length=12, choices=VerificationStatus.choices
    )
    basis = models.CharField(_("basis"), max_length=20, choices=ClaimBasis.choices)
    basis_status = models.CharField(
        _("basis status"),
        max_length=12,
        choices=VerificationStatus.choices,
        help_text=_("Whether a source says the amount is tested on this basis for supplements."),
    )
    basis_note_nl = models.TextField(_("basis note (Dutch)"), blank=True)
    basis_note_en = models.TextField(_("basis note (English)"), blank=True)
    condition_nl = models.TextField(
        _("condition (Dutch)"), help_text=_("The condition of use as the register words it.")
    )
    condition_nl_status = models.CharField(
        _("condition status (Dutch)"), max_length=16, choices=WordingStatus.choices
    )
    condition_en = models.TextField(
        _("condition (English)"), help_text=_("The condition of use as the register words it.")
    )
    condition_en_status = models.CharField(
        _("condition status (English)"), max_length=16, choices=WordingStatus.choices
    )
    references = models.ManyToManyField(
        Reference,
        through="SourceOfRuleCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        ordering = ["nutrient"]
        verbose_name = _("“source of” rule")
        verbose_name_plural = _("“source of” rules")
        constraints = [
            choices_check("nutrient", ClaimNutrient, "source_of_nutrient_valid"),
            choices_check("rule_status", VerificationStatus, "source_of_rule_status_valid"),
            choices_check("basis", ClaimBasis, "source_of_basis_valid"),
            choices_check("basis_status", VerificationStatus, "source_of_basis_status_valid"),
            choices_check("condition_nl_status", WordingStatus, "source_of_condition_nl_valid"),
            choices_check("condition_en_status", WordingStatus, "source_of_condition_en_valid"),
            models.CheckConstraint(condition=Q(nrv_mg__gt=0), name="source_of_nrv_positive"),
            models.CheckConstraint(
                condition=Q(minimum_percent_of_nrv__gt=0), name="source_of_percent_positive"
            ),
        ]

    def __str__(self):
        return f"source of {self.nutrient}: {self.minimum_percent_of_nrv} % of {self.nrv_mg} mg"


class HealthClaim(models.Model):
    """An EU-authorised health claim (Reg. (EU) No 432/2012) about a nutrient.

    A claim is what the law allows a label to say about a nutrient, on a food that meets the
    condition of its ``rule``. It is not evidence: what studies show about a compound form is
    compounds.CompoundIndication, graded A-D. The two never stand in for each other.
    """

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    rule = models.ForeignKey(
        SourceOfRule,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("“source of” rule"),
    )
    efsa_ids = models.CharField(
        _("EFSA IDs"),
        max_length=60,
        help_text=_("The numbers of the EFSA consolidated Art. 13 list, the register's entry id."),
    )
    text_nl = models.TextField(_("text (Dutch)"))
    text_nl_status = models.CharField(
        _("text status (Dutch)"), max_length=16, choices=WordingStatus.choices
    )
    text_en = models.TextField(_("text (English)"))
    text_en_status = models.CharField(
        _("text status (English)"), max_length=16, choices=WordingStatus.choices
    )
    note_nl = models.TextField(_("note (Dutch)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    references = models.ManyToManyField(
        Reference,
        through="HealthClaimCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("health claim")
        verbose_name_plural = _("health claims")
        constraints = [
            choices_check("text_nl_status", WordingStatus, "claim_text_nl_status_valid"),
            choices_check("text_en_status", WordingStatus, "claim_text_en_status_valid"),
        ]

    def __str__(self):
        return self.slug


class SourceOfRuleCitation(Citation):
    rule = models.ForeignKey(
        SourceOfRule, on_delete=models.CASCADE, verbose_name=_("“source of” rule")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a “source of” rule")
        verbose_name_plural = _("cited references of “source of” rules")
        constraints = [
            models.UniqueConstraint(fields=["rule", "reference"], name="source_of_citation_unique")
        ]


class HealthClaimCitation(Citation):
    claim = models.ForeignKey(HealthClaim, on_delete=models.CASCADE, verbose_name=_("health claim"))

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a health claim")
        verbose_name_plural = _("cited references of health claims")
        constraints = [
            models.UniqueConstraint(fields=["claim", "reference"], name="claim_citation_unique")
        ]


def age_band_text(age_from_months: int, age_to_months: int | None) -> str:
    """A band of whole months (the upper bound exclusive) as a reader says it: 12-48 months is
    "1-3 years", 216 months on is "18 years and older", 0-6 months is "0-5 months"."""
    if age_to_months is None:
        if age_from_months % 12 == 0 and age_from_months:
            years = age_from_months // 12
            return ngettext("%(start)s year and older", "%(start)s years and older", years) % {
                "start": years
            }
        return ngettext(
            "%(start)s month and older", "%(start)s months and older", age_from_months
        ) % {"start": age_from_months}
    last_month = age_to_months - 1
    if (
        age_from_months % 12 == 0
        and age_to_months % 12 == 0
        and age_to_months - age_from_months > 12
    ):
        start, end = age_from_months // 12, age_to_months // 12 - 1
        return ngettext("%(start)s-%(end)s year", "%(start)s-%(end)s years", end) % {
            "start": start,
            "end": end,
        }
    if last_month == age_from_months:
        return ngettext("%(start)s month", "%(start)s months", age_from_months) % {
            "start": age_from_months
        }
    return ngettext("%(start)s-%(end)s month", "%(start)s-%(end)s months", last_month) % {
        "start": age_from_months,
        "end": last_month,
    }


def age_band_check(row) -> None:
    """A clear form error for a band that ends where or before it starts (the database's check
    constraint would only name itself)."""
    if (
        row.age_from_months is not None
        and row.age_to_months is not None
        and row.age_to_months <= row.age_from_months
    ):
        raise ValidationError(
            {
                "age_to_months": _(
                    "The band ends before it starts: the age up to (%(end)s months) must be "
                    "above the age from (%(start)s months), or empty for no upper bound."
                )
                % {"start": row.age_from_months, "end": row.age_to_months}
            },
            code="age_band_reversed",
        )


class Population(models.Model):
    """A population a check can be made for: adults, a children's age band, pregnancy, lactation.

    The band is the one the stored reference intakes and upper limits are given for; an intake
    row applies to a population when its life stage is the population's and its age band
    overlaps the population's (``formulary.selectors.rows_for_population``).
    """

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
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
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("The population a request without one is for.")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("population")
        verbose_name_plural = _("populations")
        ordering = ["age_from_months", "life_stage", "slug"]
        constraints = [
            choices_check("life_stage", LifeStage, "population_life_stage_valid"),
            models.CheckConstraint(
                condition=Q(age_to_months__isnull=True)
                | Q(age_to_months__gt=models.F("age_from_months")),
                name="population_age_band_ordered",
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="population_one_default"
            ),
        ]

    def __str__(self):
        return localized(self, "name")

    def clean(self):
        age_band_check(self)
        if self.is_default:
            other = Population.objects.filter(is_default=True).exclude(pk=self.pk).first()
            if other is not None:
                raise ValidationError(
                    {
                        "is_default": _(
                            "“%(other)s” is the default population already; only one can be. "
                            "Untick it there first."
                        )
                        % {"other": other}
                    },
                    code="second_default",
                )


class NutrientUpperLimit(models.Model):
    """A tolerable upper intake level of a nutrient other than magnesium, for one band.

    Magnesium's own limits are ReferenceIntake rows. The amount is in the nutrient's unit.
    """

    nutrient = models.ForeignKey(
        Nutrient, on_delete=models.PROTECT, related_name="upper_limits", verbose_name=_("nutrient")
    )
    jurisdiction = models.CharField(_("jurisdiction"), max_length=2, choices=Jurisdiction.choices)
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
    amount = models.DecimalField(
        _("amount a day"),
        max_digits=9,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("In the nutrient's unit."),
    )
    status = models.CharField(
        _("verification status"), max_length=12, choices=VerificationStatus.choices
    )
    note_nl = models.TextField(_("note (Dutch)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    references = models.ManyToManyField(
        Reference,
        through="NutrientUpperLimitCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("upper limit of a nutrient")
        verbose_name_plural = _("upper limits of nutrients")
        ordering = ["nutrient__slug", "jurisdiction", "life_stage", "age_from_months", "id"]
        constraints = [
            choices_check("jurisdiction", Jurisdiction, "nutrient_limit_jurisdiction_valid"),
            choices_check("life_stage", LifeStage, "nutrient_limit_life_stage_valid"),
            choices_check("status", VerificationStatus, "nutrient_limit_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="nutrient_limit_positive"),
            models.CheckConstraint(
                condition=Q(age_to_months__isnull=True)
                | Q(age_to_months__gt=models.F("age_from_months")),
                name="nutrient_limit_age_band_ordered",
            ),
            models.UniqueConstraint(
                fields=["nutrient", "jurisdiction", "life_stage", "age_from_months"],
                name="nutrient_limit_band_unique",
            ),
        ]

    def __str__(self):
        # The admin's title and messages: "Zink, EU, algemeen, 18 jaar en ouder: 25 mg".
        band = age_band_text(self.age_from_months, self.age_to_months)
        return (
            f"{self.nutrient}, {self.get_jurisdiction_display()}, {self.get_life_stage_display()}"
            f", {band}: {number_text(self.amount)} {self.nutrient.get_unit_display()}"
        )

    def clean(self):
        age_band_check(self)


class Caution(models.Model):
    """A condition of the person under which magnesium supplements need caution (severe renal
    impairment), with the advice and its sources; a request names it to get the warning."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    advice_nl = models.TextField(_("advice (Dutch)"))
    advice_en = models.TextField(_("advice (English)"))
    status = models.CharField(
        _("verification status"), max_length=12, choices=VerificationStatus.choices
    )
    references = models.ManyToManyField(
        Reference,
        through="CautionCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        # pgettext: the interaction action "caution" is "voorzichtigheid", this "waarschuwing".
        verbose_name = pgettext_lazy("condition of the person", "caution")
        verbose_name_plural = _("cautions")
        ordering = ["slug"]
        constraints = [choices_check("status", VerificationStatus, "caution_status_valid")]

    def __str__(self):
        return localized(self, "name")


class NutrientUpperLimitCitation(Citation):
    limit = models.ForeignKey(
        NutrientUpperLimit, on_delete=models.CASCADE, verbose_name=_("upper limit of a nutrient")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a nutrient's upper limit")
        verbose_name_plural = _("cited references of nutrients' upper limits")
        constraints = [
            models.UniqueConstraint(
                fields=["limit", "reference"], name="nutrient_limit_citation_unique"
            )
        ]


class CautionCitation(Citation):
    caution = models.ForeignKey(
        Caution,
        on_delete=models.CASCADE,
        verbose_name=pgettext_lazy("condition of the person", "caution"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a caution")
        verbose_name_plural = _("cited references of cautions")
        constraints = [
            models.UniqueConstraint(fields=["caution", "reference"], name="caution_citation_unique")
        ]
