"""Compound forms (salt + hydrate), carriers, evidence links and medication interaction rules."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from compounds import chemistry
from compounds.enums import (
    ACTION_FOR_MECHANISM,
    SPACING_MECHANISMS,
    Classification,
    EvidenceBasis,
    EvidenceGrade,
    FoodRelation,
    LaxativeTendency,
    Mechanism,
    Severity,
    SolubilityTerm,
    StomachAcidDependence,
    TimeOfDay,
)
from formulary.common.history import audit_history
from formulary.common.localization import localized
from formulary.enums import VerificationStatus, choices_check
from formulary.models import Citation, Indication, Medication, Nutrient, Reference

MAX_SPACING_HOURS = 48
# The fact groups of a compound form that carry a verification status of their own.
FACT_STATUS_FIELDS = (
    "chemistry_status",
    "solubility_status",
    "stomach_acid_status",
    "laxative_status",
    "bioavailability_status",
    "intake_status",
)


def validate_formula(value: str):
    try:
        chemistry.parse_formula(value)
    except chemistry.FormulaError as error:
        raise ValidationError(error.message, code=error.code) from error


# A figure of hours in a text: "4 h", "3-4 uur", "2 hours", "twee uur". A spacing rule's window
# sentence is written from its hours fields; a figure typed into its advice beside them drifts
# from them on the next edit, as moxifloxacin's "4 h before or 8 h after" once did.
HOUR_FIGURE = re.compile(
    r"\b(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf)"
    r"\s*(?:[-\u2013]\s*\d+(?:[.,]\d+)?\s*)?(?:h|hrs?|hours?|u|uur|uren)\b",
    re.IGNORECASE,
)


def spacing_rule_errors(rule, hours_fields: tuple[str, str]) -> dict[str, ValidationError]:
    """What an interaction rule, a medication's or a supplement's, may not hold: hours on a
    rule that does not space, or hours in an advice text beside the hours fields. The hours
    have one home, the fields; every sentence that states them is written from them."""
    if rule.mechanism not in SPACING_MECHANISMS:
        if all(getattr(rule, field) is None for field in hours_fields):
            return {}
        message = _(
            "Only chelation and absorption rules carry spacing hours; "
            "clear the hours or change the mechanism."
        )
        return {"mechanism": ValidationError(message, code="hours_without_spacing")}
    errors = {}
    for field in ("advice_nl", "advice_en"):
        if found := HOUR_FIGURE.search(getattr(rule, field)):
            errors[field] = ValidationError(
                _(
                    "Give the window in the hours fields, not in the advice (found “%(figure)s”): "
                    "the sentence that states the window is written from those fields."
                ),
                code="hours_in_advice",
                params={"figure": found.group()},
            )
    return errors


def status_field(verbose_name, help_text):
    return models.CharField(
        verbose_name,
        max_length=12,
        choices=VerificationStatus.choices,
        default=VerificationStatus.UNVERIFIED,
        help_text=help_text,
    )


class Carrier(models.Model):
    """The counter-ion or ligand bound to magnesium (oxide, citrate, glycine, taurine, ...)."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)

    history = audit_history()

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["slug"]

    def __str__(self):
        # The admin names rows by __str__ (drop-downs, autocomplete, messages).
        return localized(self, "name")


class CarrierEffect(models.Model):
    """An effect of the carrier molecule itself, kept apart from magnesium's own effects."""

    carrier = models.ForeignKey(
        Carrier, on_delete=models.CASCADE, related_name="effects", verbose_name=_("carrier")
    )
    text_nl = models.TextField(_("text (Dutch)"))
    text_en = models.TextField(_("text (English)"))
    indications = models.ManyToManyField(
        Indication, related_name="carrier_effects", blank=True, verbose_name=_("indications")
    )
    status = status_field(_("verification status"), _("How far the effect was checked."))
    references = models.ManyToManyField(
        Reference,
        through="CarrierEffectCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history(m2m_fields=["indications"])

    class Meta:
        verbose_name = _("carrier effect")
        verbose_name_plural = _("carrier effects")
        ordering = ["carrier__slug", "id"]
        constraints = [choices_check("status", VerificationStatus, "carrier_effect_status_valid")]

    def __str__(self):
        return f"{self.carrier}: {localized(self, 'text')[:60]}"


class CompoundForm(models.Model):
    """One salt in one hydrate state. Molar mass and magnesium share follow from the formula."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    formula = models.CharField(
        _("formula"),
        max_length=chemistry.MAX_FORMULA_LENGTH,
        validators=[validate_formula],
        help_text=_("With the hydrate, e.g. MgCl2·6H2O or 4MgCO3·Mg(OH)2·5H2O."),
    )
    formula_note = models.CharField(_("formula note"), max_length=200, blank=True)
    hydrate_note = models.CharField(_("hydrate note"), max_length=200, blank=True)

    # Derived from the formula on every save; never typed in.
    hydrate = models.CharField(_("hydrate"), max_length=30, editable=False)
    # Decimal: the Ph. Eur. knows fractional hydrates such as MgCl2·4.5H2O.
    water_of_hydration = models.DecimalField(
        _("water of hydration (molecules)"), max_digits=6, decimal_places=2, editable=False
    )
    molar_mass_g_mol = models.DecimalField(
        _("molar mass (g/mol)"), max_digits=10, decimal_places=4, editable=False
    )
    magnesium_atoms = models.PositiveSmallIntegerField(_("magnesium atoms"), editable=False)
    elemental_magnesium_percent = models.DecimalField(
        _("elemental magnesium (%)"), max_digits=8, decimal_places=4, editable=False
    )

    classification = models.CharField(
        _("classification"), max_length=10, choices=Classification.choices
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("carrier")
    )
    chemistry_status = status_field(_("chemistry status"), _("Formula and hydrate identity."))

    solubility_term = models.CharField(
        _("solubility (Ph. Eur. term)"),
        max_length=25,
        choices=SolubilityTerm.choices,
        blank=True,
        help_text=_("Ph. Eur. term; empty where not verified or where sources conflict."),
    )
    solubility_g_per_l = models.DecimalField(
        _("solubility (g/l)"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    solubility_source_text = models.CharField(
        _("solubility as the source states it"), max_length=200, blank=True
    )
    solubility_status = status_field(_("solubility status"), _("Solubility facts."))

    needs_stomach_acid = models.CharField(
        _("needs stomach acid"), max_length=6, choices=StomachAcidDependence.choices
    )
    stomach_acid_status = status_field(_("stomach acid status"), _("Stomach-acid dependence."))
    laxative_tendency = models.CharField(
        _("laxative tendency"), max_length=8, choices=LaxativeTendency.choices
    )
    laxative_status = status_field(_("laxative status"), _("Laxative tendency."))
    bioavailability_notes_nl = models.TextField(_("bioavailability notes (Dutch)"), blank=True)
    bioavailability_notes_en = models.TextField(_("bioavailability notes (English)"), blank=True)
    bioavailability_status = status_field(_("bioavailability status"), _("Bioavailability notes."))
    typical_uses_nl = models.TextField(_("typical uses (Dutch)"), blank=True)
    typical_uses_en = models.TextField(_("typical uses (English)"), blank=True)

    time_of_day = models.CharField(
        _("time of day"), max_length=8, choices=TimeOfDay.choices, default=TimeOfDay.EITHER
    )
    food_relation = models.CharField(
        _("intake and meals"),
        max_length=25,
        choices=FoodRelation.choices,
        default=FoodRelation.EITHER,
    )
    default_spacing_hours = models.DecimalField(
        _("default spacing (hours)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SPACING_HOURS)],
        help_text=_(
            "Hours between this compound and any medication where no specific rule applies."
        ),
    )
    intake_note_nl = models.TextField(_("intake note (Dutch)"), blank=True)
    intake_note_en = models.TextField(_("intake note (English)"), blank=True)
    intake_status = status_field(_("intake status"), _("Intake guidance."))

    sources_note = models.TextField(
        _("sources note"),
        blank=True,
        help_text=_("The source notes as the reference data gives them."),
    )
    references = models.ManyToManyField(
        Reference,
        through="CompoundCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("compound form")
        verbose_name_plural = _("compound forms")
        ordering = ["slug"]
        constraints = [
            choices_check("classification", Classification, "compound_classification_valid"),
            choices_check("needs_stomach_acid", StomachAcidDependence, "compound_acid_valid"),
            choices_check("laxative_tendency", LaxativeTendency, "compound_laxative_valid"),
            choices_check("time_of_day", TimeOfDay, "compound_time_of_day_valid"),
            choices_check("food_relation", FoodRelation, "compound_food_relation_valid"),
            models.CheckConstraint(
                condition=Q(solubility_term="") | Q(solubility_term__in=SolubilityTerm.values),
                name="compound_solubility_term_valid",
            ),
            *(
                choices_check(field, VerificationStatus, f"compound_{field}_valid")
                for field in FACT_STATUS_FIELDS
            ),
            models.CheckConstraint(
                condition=Q(magnesium_atoms__gte=1), name="compound_contains_magnesium"
            ),
            models.CheckConstraint(
                condition=Q(
                    elemental_magnesium_percent__gt=0, elemental_magnesium_percent__lte=100
                ),
                name="compound_elemental_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    default_spacing_hours__gte=0, default_spacing_hours__lte=MAX_SPACING_HOURS
                ),
                name="compound_default_spacing_range",
            ),
        ]

    def __str__(self):
        return localized(self, "name")

    def save(self, *args, **kwargs):
        self.apply_formula()
        super().save(*args, **kwargs)

    @property
    def elemental_magnesium_fraction(self):
        return self.elemental_magnesium_percent / 100

    def apply_formula(self):
        """Derive hydrate, molar mass and magnesium share from ``formula``."""
        parsed = chemistry.parse_formula(self.formula)
        self.formula = parsed.formula
        self.hydrate = parsed.hydrate
        self.water_of_hydration = parsed.water_of_hydration
        self.molar_mass_g_mol = round(parsed.molar_mass_g_mol, 4)
        self.magnesium_atoms = parsed.magnesium_atoms
        self.elemental_magnesium_percent = round(parsed.elemental_magnesium_percent, 4)


class CompoundIndication(models.Model):
    """Evidence that a compound form fits an indication, graded and sourced."""

    compound = models.ForeignKey(
        CompoundForm, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("compound")
    )
    indication = models.ForeignKey(
        Indication, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("indication")
    )
    grade = models.CharField(_("evidence grade"), max_length=1, choices=EvidenceGrade.choices)
    basis = models.CharField(_("basis"), max_length=10, choices=EvidenceBasis.choices)
    rationale_nl = models.TextField(_("rationale (Dutch)"))
    rationale_en = models.TextField(_("rationale (English)"))
    status = status_field(_("verification status"), _("How far the rationale was checked."))
    references = models.ManyToManyField(
        Reference,
        through="EvidenceCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("evidence link")
        verbose_name_plural = _("evidence links")
        ordering = ["indication__slug", "grade", "compound__slug"]
        constraints = [
            choices_check("grade", EvidenceGrade, "evidence_grade_valid"),
            choices_check("basis", EvidenceBasis, "evidence_basis_valid"),
            choices_check("status", VerificationStatus, "evidence_status_valid"),
            models.UniqueConstraint(fields=["compound", "indication"], name="evidence_pair_unique"),
        ]

    def __str__(self):
        return f"{self.compound.slug} → {self.indication.slug} ({self.grade})"


class InteractionRule(models.Model):
    """How magnesium and a medication interact, with spacing that has a direction.

    ``drug_before_mg_hours``: the medication goes at least this long before magnesium.
    ``drug_after_mg_hours``: the medication waits at least this long after magnesium.
    On a spacing rule, an empty direction means no sourced window: that order is not advised.
    """

    medication = models.ForeignKey(
        Medication,
        on_delete=models.PROTECT,
        related_name="interaction_rules",
        verbose_name=_("medication"),
    )
    mechanism = models.CharField(_("mechanism"), max_length=16, choices=Mechanism.choices)
    drug_before_mg_hours = models.DecimalField(
        _("medication before magnesium (hours)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SPACING_HOURS)],
    )
    drug_after_mg_hours = models.DecimalField(
        _("medication after magnesium (hours)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SPACING_HOURS)],
    )
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    check_label = models.BooleanField(
        _("check the label"),
        default=False,
        help_text=_("No verified window: the product label decides."),
    )
    compounds = models.ManyToManyField(
        CompoundForm,
        related_name="interaction_rules",
        blank=True,
        help_text=_("Empty: the rule applies to every magnesium compound."),
        verbose_name=_("compounds"),
    )
    advice_nl = models.TextField(_("advice (Dutch)"))
    advice_en = models.TextField(_("advice (English)"))
    status = status_field(_("verification status"), _("How far the rule was checked."))
    references = models.ManyToManyField(
        Reference,
        through="InteractionRuleCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history(m2m_fields=["compounds"])

    class Meta:
        verbose_name = _("interaction rule")
        verbose_name_plural = _("interaction rules")
        ordering = ["medication__slug", "id"]
        constraints = [
            choices_check("mechanism", Mechanism, "rule_mechanism_valid"),
            choices_check("severity", Severity, "rule_severity_valid"),
            choices_check("status", VerificationStatus, "rule_status_valid"),
            models.UniqueConstraint(
                fields=["medication", "mechanism"], name="rule_one_per_medication_mechanism"
            ),
            models.CheckConstraint(
                condition=Q(mechanism__in=SPACING_MECHANISMS)
                | Q(drug_before_mg_hours__isnull=True, drug_after_mg_hours__isnull=True),
                name="rule_hours_only_for_spacing",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": 0, f"{field}__lte": MAX_SPACING_HOURS}),
                    name=f"rule_{field}_range",
                )
                for field in ("drug_before_mg_hours", "drug_after_mg_hours")
            ),
        ]

    def __str__(self):
        return f"{self.medication.slug}: {self.mechanism}"

    @property
    def action(self):
        return ACTION_FOR_MECHANISM[Mechanism(self.mechanism)]

    def clean(self):
        if errors := spacing_rule_errors(self, ("drug_before_mg_hours", "drug_after_mg_hours")):
            raise ValidationError(errors)


class CarrierEffectCitation(Citation):
    carrier_effect = models.ForeignKey(
        CarrierEffect, on_delete=models.CASCADE, verbose_name=_("carrier effect")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a carrier effect")
        verbose_name_plural = _("cited references of carrier effects")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier_effect", "reference"], name="carrier_citation_unique"
            )
        ]


class CompoundCitation(Citation):
    compound = models.ForeignKey(CompoundForm, on_delete=models.CASCADE, verbose_name=_("compound"))

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a compound form")
        verbose_name_plural = _("cited references of compound forms")
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "reference"], name="compound_citation_unique"
            )
        ]


class EvidenceCitation(Citation):
    evidence = models.ForeignKey(
        CompoundIndication, on_delete=models.CASCADE, verbose_name=_("evidence link")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of an evidence link")
        verbose_name_plural = _("cited references of evidence links")
        constraints = [
            models.UniqueConstraint(
                fields=["evidence", "reference"], name="evidence_citation_unique"
            )
        ]


def stated_hours_field(verbose_name, help_text):
    return models.DecimalField(
        verbose_name,
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SPACING_HOURS)],
        help_text=help_text,
    )


class InteractionRuleCitation(Citation):
    """A source of a rule, with the window that source states kept beside it.

    The rule's own hours are the most conservative of its sources' windows (a test holds them
    equal), so a source that differs from another is kept, not averaged away.
    """

    rule = models.ForeignKey(
        InteractionRule, on_delete=models.CASCADE, verbose_name=_("interaction rule")
    )
    stated_drug_before_mg_hours = stated_hours_field(
        _("stated hours, medication before magnesium"),
        _(
            "The medication at least this many hours before magnesium, as this source states "
            "it; empty: the source gives no window in that order."
        ),
    )
    stated_drug_after_mg_hours = stated_hours_field(
        _("stated hours, medication after magnesium"),
        _(
            "The medication at least this many hours after magnesium, as this source states "
            "it; empty: the source gives no window in that order."
        ),
    )
    stated = models.TextField(
        _("stated"), blank=True, help_text=_("What the source says, in its own terms.")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of an interaction rule")
        verbose_name_plural = _("cited references of interaction rules")
        constraints = [
            models.UniqueConstraint(fields=["rule", "reference"], name="rule_citation_unique")
        ]


class SupplementRule(models.Model):
    """How magnesium and another supplement's nutrient (zinc, iron, calcium) interact: a rule
    of the same kind as a medication's, with directional spacing.

    ``supplement_before_mg_hours``: the other supplement at least this long before magnesium;
    ``supplement_after_mg_hours``: at least this long after it. An empty direction on a spacing
    rule means no sourced window. ``minimum_daily_amount`` (in the nutrient's unit): the rule
    holds from this daily amount on (high-dose zinc); empty: at any amount.
    """

    nutrient = models.ForeignKey(
        Nutrient,
        on_delete=models.PROTECT,
        related_name="supplement_rules",
        verbose_name=_("nutrient"),
    )
    mechanism = models.CharField(_("mechanism"), max_length=16, choices=Mechanism.choices)
    supplement_before_mg_hours = models.DecimalField(
        _("supplement before magnesium (hours)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SPACING_HOURS)],
    )
    supplement_after_mg_hours = models.DecimalField(
        _("supplement after magnesium (hours)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SPACING_HOURS)],
    )
    minimum_daily_amount = models.DecimalField(
        _("from a daily amount of"),
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("In the nutrient's unit; empty: the rule holds at any amount."),
    )
    check_label = models.BooleanField(
        _("check the label"),
        default=False,
        help_text=_("No verified window: the product label decides."),
    )
    advice_nl = models.TextField(_("advice (Dutch)"))
    advice_en = models.TextField(_("advice (English)"))
    status = status_field(_("verification status"), _("How far the rule was checked."))
    references = models.ManyToManyField(
        Reference,
        through="SupplementRuleCitation",
        related_name="+",
        blank=True,
        verbose_name=_("references"),
    )

    history = audit_history()

    class Meta:
        verbose_name = _("supplement interaction rule")
        verbose_name_plural = _("supplement interaction rules")
        ordering = ["nutrient__slug", "id"]
        constraints = [
            choices_check("mechanism", Mechanism, "supplement_rule_mechanism_valid"),
            choices_check("status", VerificationStatus, "supplement_rule_status_valid"),
            models.UniqueConstraint(
                fields=["nutrient", "mechanism"], name="supplement_rule_one_per_mechanism"
            ),
            models.CheckConstraint(
                condition=Q(mechanism__in=SPACING_MECHANISMS)
                | Q(
                    supplement_before_mg_hours__isnull=True, supplement_after_mg_hours__isnull=True
                ),
                name="supplement_rule_hours_only_for_spacing",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": 0, f"{field}__lte": MAX_SPACING_HOURS}),
                    name=f"supplement_rule_{field}_range",
                )
                for field in ("supplement_before_mg_hours", "supplement_after_mg_hours")
            ),
        ]

    def __str__(self):
        # The admin's title and messages: "IJzer: verminderde opname".
        return f"{self.nutrient}: {self.get_mechanism_display()}"

    @property
    def action(self):
        return ACTION_FOR_MECHANISM[Mechanism(self.mechanism)]

    def clean(self):
        fields = ("supplement_before_mg_hours", "supplement_after_mg_hours")
        if errors := spacing_rule_errors(self, fields):
            raise ValidationError(errors)


class SupplementRuleCitation(Citation):
    """A source of a supplement rule, with the window that source states beside it."""

    rule = models.ForeignKey(
        SupplementRule, on_delete=models.CASCADE, verbose_name=_("supplement interaction rule")
    )
    stated_supplement_before_mg_hours = stated_hours_field(
        _("stated hours, supplement before magnesium"),
        _(
            "The supplement at least this many hours before magnesium, as this source states "
            "it; empty: the source gives no window in that order."
        ),
    )
    stated_supplement_after_mg_hours = stated_hours_field(
        _("stated hours, supplement after magnesium"),
        _(
            "The supplement at least this many hours after magnesium, as this source states "
            "it; empty: the source gives no window in that order."
        ),
    )
    stated = models.TextField(
        _("stated"), blank=True, help_text=_("What the source says, in its own terms.")
    )

    history = audit_history()

    class Meta:
        verbose_name = _("cited reference of a supplement rule")
        verbose_name_plural = _("cited references of supplement rules")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "reference"], name="supplement_rule_citation_unique"
            )
        ]
