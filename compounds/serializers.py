"""Compound, indication and medication profiles as JSON. Texts follow the request language."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compounds.chemistry import elemental_magnesium_fraction
from compounds.enums import ACTION_FOR_MECHANISM, Mechanism
from compounds.selectors import rules_for_compound
from formulary.common.localization import localized
from formulary.common.numbers import rounded


class LocalizedField(serializers.Field):
    """``name`` -> ``name_nl`` or ``name_en``, by the active language."""

    def __init__(self, field, **kwargs):
        self.text_field = field
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, instance):
        return localized(instance, self.text_field)


extend_schema_field({"type": "string"})(LocalizedField)


class ReferenceSerializer(serializers.Serializer):
    key = serializers.CharField()
    citation = serializers.CharField()
    doi = serializers.CharField(allow_blank=True)
    pmid = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    about_carrier = serializers.BooleanField()


class IndicationBriefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedField("name")


class CompoundBriefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedField("name")
    formula = serializers.CharField()
    elemental_magnesium_percent = serializers.SerializerMethodField()

    def get_elemental_magnesium_percent(self, compound) -> float:
        # From the exact molar mass, not the stored 4-decimal percentage: rounded only once.
        fraction = elemental_magnesium_fraction(compound.magnesium_atoms, compound.molar_mass_g_mol)
        return rounded(fraction * 100, 2)


class EvidenceSerializer(serializers.Serializer):
    """One compound-indication link, seen from either side."""

    grade = serializers.CharField()
    basis = serializers.CharField()
    rationale = LocalizedField("rationale")
    status = serializers.CharField()
    references = ReferenceSerializer(many=True, source="references.all")


class CompoundEvidenceSerializer(EvidenceSerializer):
    indication = IndicationBriefSerializer()


class IndicationEvidenceSerializer(EvidenceSerializer):
    compound = CompoundBriefSerializer()


class IndicationSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedField("name")
    description = LocalizedField("description")
    compounds = IndicationEvidenceSerializer(many=True, source="evidence.all")


class RuleSourceSerializer(serializers.Serializer):
    """One source of a rule with the window it states; the rule keeps the strictest."""

    key = serializers.CharField(source="reference.key")
    status = serializers.CharField(source="reference.status")
    drug_before_mg_hours = serializers.SerializerMethodField()
    drug_after_mg_hours = serializers.SerializerMethodField()
    stated = serializers.CharField(allow_blank=True)

    def get_drug_before_mg_hours(self, citation) -> float | None:
        return rounded(citation.stated_drug_before_mg_hours, 1)

    def get_drug_after_mg_hours(self, citation) -> float | None:
        return rounded(citation.stated_drug_after_mg_hours, 1)


class RuleSerializer(serializers.Serializer):
    medication = serializers.SlugField(source="medication.slug")
    mechanism = serializers.CharField()
    action = serializers.SerializerMethodField()
    drug_before_mg_hours = serializers.SerializerMethodField(
        help_text="The medication at least this many hours before magnesium; null: that order "
        "is not advised (spacing rules) or no spacing applies (other rules)."
    )
    drug_after_mg_hours = serializers.SerializerMethodField(
        help_text="The medication at least this many hours after magnesium; null as above."
    )
    severity = serializers.CharField()
    check_label = serializers.BooleanField()
    applies_to_compounds = serializers.SerializerMethodField(
        help_text="Compound slugs the rule is restricted to; empty: every compound."
    )
    advice = LocalizedField("advice")
    status = serializers.CharField()
    references = ReferenceSerializer(many=True, source="references.all")
    sources = RuleSourceSerializer(
        many=True,
        source="interactionrulecitation_set.all",
        help_text="Each reference with the window it states; the rule's hours are the most "
        "conservative of them.",
    )

    def get_action(self, rule) -> str:
        return ACTION_FOR_MECHANISM[Mechanism(rule.mechanism)].value

    def get_drug_before_mg_hours(self, rule) -> float | None:
        return rounded(rule.drug_before_mg_hours, 1)

    def get_drug_after_mg_hours(self, rule) -> float | None:
        return rounded(rule.drug_after_mg_hours, 1)

    def get_applies_to_compounds(self, rule) -> list[str]:
        return [compound.slug for compound in rule.compounds.all()]


class MedicationBriefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    kind = serializers.CharField()
    name = LocalizedField("name")


class MedicationSerializer(MedicationBriefSerializer):
    """A class, substance or combination product with the rules in force for it."""

    parent = MedicationBriefSerializer(
        allow_null=True, help_text="The class of a substance; the substance of a product."
    )
    atc_code = serializers.CharField(allow_blank=True)
    brand_names = serializers.ListField(child=serializers.CharField())
    members = serializers.SerializerMethodField()
    taken_alone_minutes = serializers.SerializerMethodField(
        help_text="Taken first thing in the day, and nothing else for this many minutes."
    )
    rules = serializers.SerializerMethodField(
        help_text="The rules in force: its own, inherited from its class (or substance), and "
        "for a class its members' overrides."
    )

    def index(self):
        return self.context["medication_index"]

    @extend_schema_field(MedicationBriefSerializer(many=True))
    def get_members(self, medication):
        return MedicationBriefSerializer(
            self.index().children.get(medication.pk, []), many=True
        ).data

    def get_taken_alone_minutes(self, medication) -> int | None:
        alone = self.index().taken_alone(medication)
        return None if alone is None else alone[0]

    @extend_schema_field(RuleSerializer(many=True))
    def get_rules(self, medication):
        return RuleSerializer(
            self.index().rules_for(medication), many=True, context=self.context
        ).data


class CarrierEffectSerializer(serializers.Serializer):
    text = LocalizedField("text")
    indications = IndicationBriefSerializer(many=True, source="indications.all")
    status = serializers.CharField()
    references = ReferenceSerializer(many=True, source="references.all")


class CarrierSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedField("name")
    effects = CarrierEffectSerializer(many=True, source="effects.all")


class FactSerializer(serializers.Serializer):
    """A value with its verification status, so unverified facts never look verified."""

    status = serializers.CharField()


class CompoundSerializer(CompoundBriefSerializer):
    hydrate = serializers.CharField()
    water_of_hydration = serializers.SerializerMethodField(
        help_text="Molecules of water per formula unit; fractional for e.g. MgCl2·4.5H2O."
    )
    hydrate_note = serializers.CharField(allow_blank=True)
    formula_note = serializers.CharField(allow_blank=True)
    molar_mass_g_mol = serializers.SerializerMethodField()
    magnesium_atoms = serializers.IntegerField()
    classification = serializers.CharField(
        help_text="Organic: a carbon-containing counter-ion. Not a bioavailability class."
    )
    chemistry_status = serializers.CharField()
    carrier = CarrierSerializer()
    solubility = serializers.SerializerMethodField()
    stomach_acid = serializers.SerializerMethodField()
    laxative = serializers.SerializerMethodField()
    bioavailability = serializers.SerializerMethodField()
    typical_uses = LocalizedField("typical_uses")
    intake = serializers.SerializerMethodField()
    indications = CompoundEvidenceSerializer(many=True, source="evidence.all")
    medication_rules = serializers.SerializerMethodField()
    references = ReferenceSerializer(many=True, source="references.all")
    sources_note = serializers.CharField(allow_blank=True)

    def get_water_of_hydration(self, compound) -> float:
        return rounded(compound.water_of_hydration, 2)

    def get_molar_mass_g_mol(self, compound) -> float:
        return rounded(compound.molar_mass_g_mol, 2)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "term": {"type": "string", "nullable": True},
                "g_per_l": {"type": "number", "nullable": True},
                "source_text": {"type": "string"},
                "status": {"type": "string"},
            },
        }
    )
    def get_solubility(self, compound):
        return {
            "term": compound.solubility_term or None,
            "g_per_l": rounded(compound.solubility_g_per_l, 4),
            "source_text": compound.solubility_source_text,
            "status": compound.solubility_status,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"needs_stomach_acid": {"type": "string"}, "status": {"type": "string"}},
        }
    )
    def get_stomach_acid(self, compound):
        return {
            "needs_stomach_acid": compound.needs_stomach_acid,
            "status": compound.stomach_acid_status,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"tendency": {"type": "string"}, "status": {"type": "string"}},
        }
    )
    def get_laxative(self, compound):
        return {"tendency": compound.laxative_tendency, "status": compound.laxative_status}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"notes": {"type": "string"}, "status": {"type": "string"}},
        }
    )
    def get_bioavailability(self, compound):
        return {
            "notes": localized(compound, "bioavailability_notes"),
            "status": compound.bioavailability_status,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "time_of_day": {"type": "string"},
                "food_relation": {"type": "string"},
                "default_spacing_hours": {"type": "number"},
                "note": {"type": "string"},
                "status": {"type": "string"},
            },
        }
    )
    def get_intake(self, compound):
        return {
            "time_of_day": compound.time_of_day,
            "food_relation": compound.food_relation,
            "default_spacing_hours": rounded(compound.default_spacing_hours, 1),
            "note": localized(compound, "intake_note"),
            "status": compound.intake_status,
        }

    @extend_schema_field(RuleSerializer(many=True))
    def get_medication_rules(self, compound):
        applying = rules_for_compound(compound, self.context["rules"])
        return RuleSerializer(applying, many=True, context=self.context).data


class ElementalCalculationSerializer(serializers.Serializer):
    formula = serializers.CharField(help_text="As read: digits, one hydrate dot (·), no spaces.")
    hydrate = serializers.CharField()
    water_of_hydration = serializers.FloatField()
    molar_mass = serializers.FloatField(help_text="g/mol")
    magnesium_atoms = serializers.IntegerField()
    elemental_magnesium_percent = serializers.FloatField()
    amount_mg = serializers.FloatField(allow_null=True)
    elemental_mg = serializers.FloatField(allow_null=True)
