"""GET /api/v1/advice/: an intake plan for a compound or a product with the person's medication."""

import math

from django import forms
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compounds.advice import DosingError, intake_plan, parse_medication
from compounds.medications import medication_index
from compounds.models import CompoundForm
from compounds.serializers import LocalizedField, ReferenceSerializer, RuleSerializer
from formulary.common.api_fields import SlugListField, refuse_unknown_and_repeated_parameters
from products.enums import ProductStatus
from products.knowledge import population_knowledge
from products.models import IngredientLine, Product
from products.populations import RENAL_VALUES, cautions_for, population_facts, population_for


class MedicationDosingField(SlugListField):
    """Medications by slug, name (Dutch or English) or brand, each optionally with its dosing:
    ``ciprofloxacin:2x`` (1x-3x a day) or ``levothyroxine:07:00/19:00`` (clock times)."""

    def __init__(self, **kwargs):
        super().__init__(known=None, kind="medication", **kwargs)

    def validate(self, value):
        forms.Field.validate(self, value)

    def clean(self, value):
        texts = self.to_python(value)
        self.validate(texts)
        index = medication_index()
        resolved, unknown, problems = [], [], []
        for text in texts:
            try:
                name, dosing = parse_medication(text)
            except DosingError as error:
                problems.append(forms.ValidationError(error.message, code=error.code))
                continue
            medication = index.resolve(name)
            if medication is None:
                unknown.append(name)
            else:
                resolved.append((medication, dosing))
        if unknown:
            # User text goes in params: Django %-formats the message itself.
            problems.insert(
                0,
                forms.ValidationError(
                    "Unknown medication: %(values)s.",
                    code="unknown_slug",
                    params={"values": ", ".join(unknown)},
                ),
            )
        slugs = [medication.slug for medication, _dosing in resolved]
        repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
        if repeated:
            problems.append(
                forms.ValidationError(
                    "Each medication once: %(values)s given more than once.",
                    code="repeated_medication",
                    params={"values": ", ".join(repeated)},
                )
            )
        if problems:
            raise forms.ValidationError(problems)
        return resolved


class AdviceForm(forms.Form):
    compound = forms.SlugField(required=False, max_length=60)
    product = forms.RegexField(
        r"^[0-9]{8,14}$", required=False, error_messages={"invalid": "A GTIN has 8-14 digits."}
    )
    medication = MedicationDosingField(required=False)
    population = forms.SlugField(required=False, max_length=40)
    renal = forms.ChoiceField(
        required=False, choices=[("", "")] + [(value, value) for value in RENAL_VALUES]
    )

    def clean_population(self):
        slug = self.cleaned_data.get("population")
        if slug and slug not in population_knowledge().populations:
            raise forms.ValidationError(
                "Unknown population: %(values)s.", code="unknown_slug", params={"values": slug}
            )
        return slug or None

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("compound")) == bool(cleaned.get("product")) and not self.errors:
            message = "Give exactly one of compound (a slug) or product (a GTIN)."
            raise forms.ValidationError(
                {
                    field: forms.ValidationError(message, code="exactly_one")
                    for field in ("compound", "product")
                }
            )
        return cleaned


def form_errors(form: forms.Form) -> ValidationError:
    """Django form errors as DRF's, keeping each error's code for the envelope."""
    return ValidationError(
        {
            field: [ErrorDetail(error["message"], code=error["code"]) for error in errors]
            for field, errors in form.errors.get_json_data().items()
        }
    )


def unknown(field: str, value: str, code: str) -> ValidationError:
    return ValidationError({field: [ErrorDetail(f"Unknown {field}: {value}.", code=code)]})


class IntakeCompoundSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedField("name")
    time_of_day = serializers.CharField()
    food_relation = serializers.CharField()
    note = LocalizedField("intake_note")
    status = serializers.CharField(source="intake_status")


class IntakeSerializer(serializers.Serializer):
    time_of_day = serializers.CharField()
    food_relation = serializers.CharField()
    text = serializers.CharField()
    compounds = IntakeCompoundSerializer(many=True)


class MedicationCitationSerializer(serializers.Serializer):
    reference = ReferenceSerializer()
    stated_alone_minutes = serializers.IntegerField(allow_null=True)
    stated = serializers.CharField(allow_blank=True)


class TakenAloneSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(help_text="Nothing else for this long after it.")
    stated_by = serializers.SlugField(help_text="The medication row whose label states it.")
    references = MedicationCitationSerializer(many=True)


class MedicationAdviceSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="class, substance or combination.")
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text="spacing, check_label (no verified window), general_spacing (no specific "
        "rule), taken_alone (first thing, nothing else for a while), monitoring, caution, "
        "information.",
    )
    advice = serializers.ListField(child=serializers.CharField())
    rules = RuleSerializer(
        many=True,
        help_text="Each rule in force with its hours and sources: a class's own rule, the "
        "override of a substance or product, or, for a class, its members' overrides.",
    )
    taken_alone = TakenAloneSerializer(allow_null=True)


class MonitoringSerializer(serializers.Serializer):
    medication = serializers.SlugField()
    mechanism = serializers.CharField()
    action = serializers.CharField()
    advice = serializers.CharField()


class ScheduleTimeSerializer(serializers.Serializer):
    time = serializers.CharField()
    take = serializers.CharField(help_text="magnesium or a medication slug.")
    name = serializers.CharField()
    dose = serializers.IntegerField(help_text="Which of the day's doses of it (1, 2, ...).")


class MedicationAssumptionSerializer(serializers.Serializer):
    medication = serializers.SlugField()
    doses_per_day = serializers.IntegerField()
    interval_hours = serializers.IntegerField(allow_null=True)
    times = serializers.ListField(child=serializers.CharField(), allow_null=True)
    stated = serializers.BooleanField(help_text="false: once a day was assumed.")


class AssumptionsSerializer(serializers.Serializer):
    day_start = serializers.CharField()
    day_end = serializers.CharField()
    grid_minutes = serializers.IntegerField()
    magnesium_intakes_per_day = serializers.IntegerField()
    magnesium_min_gap_hours = serializers.IntegerField()
    medications = MedicationAssumptionSerializer(many=True)
    text = serializers.ListField(child=serializers.CharField())


class ScheduleSerializer(serializers.Serializer):
    feasible = serializers.BooleanField()
    day_start = serializers.CharField()
    day_end = serializers.CharField()
    magnesium_intakes_per_day = serializers.IntegerField()
    times = ScheduleTimeSerializer(many=True, help_text="Empty when not feasible.")
    conflicting = serializers.ListField(child=serializers.SlugField())
    collisions = serializers.ListField(
        child=serializers.ListField(child=serializers.SlugField()),
        help_text="Groups of intakes that cannot all be placed (magnesium with one or two "
        "medications); empty when feasible.",
    )
    message = serializers.CharField()


class SubjectSerializer(serializers.Serializer):
    compound = serializers.SlugField(allow_null=True)
    product = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class PopulationLimitSerializer(serializers.Serializer):
    set = serializers.BooleanField(help_text="false: the jurisdiction sets no limit for it.")
    limit_mg = serializers.FloatField(allow_null=True)
    exceeded = serializers.BooleanField(
        allow_null=True, help_text="For a product: its daily amount is above the limit."
    )
    percent_of_limit = serializers.FloatField(allow_null=True)
    split_dose_advised = serializers.BooleanField()
    status = serializers.CharField(allow_null=True)
    references = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()


class PopulationLimitsSerializer(serializers.Serializer):
    eu = PopulationLimitSerializer()
    us = PopulationLimitSerializer()


class PopulationIntakeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="adequate_intake (EFSA) or rda (IOM).")
    sex = serializers.CharField()
    age_from_months = serializers.IntegerField()
    age_to_months = serializers.IntegerField(allow_null=True)
    amount_mg = serializers.FloatField()
    percent_per_day = serializers.FloatField(allow_null=True)
    status = serializers.CharField()
    references = serializers.ListField(child=serializers.CharField())


class PopulationIntakesSerializer(serializers.Serializer):
    eu = PopulationIntakeSerializer(many=True)
    us = PopulationIntakeSerializer(many=True)


class PopulationSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    life_stage = serializers.CharField()
    age_from_months = serializers.IntegerField()
    age_to_months = serializers.IntegerField(allow_null=True)
    upper_limits = PopulationLimitsSerializer()
    reference_intakes = PopulationIntakesSerializer(
        help_text="The rows whose band meets the population's, by sex where the sources split."
    )


class CautionReferenceSerializer(serializers.Serializer):
    key = serializers.CharField()
    citation = serializers.CharField()
    doi = serializers.CharField(allow_null=True)
    pmid = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    status = serializers.CharField()


class CautionSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    advice = serializers.CharField()
    status = serializers.CharField()
    references = CautionReferenceSerializer(many=True)


class AdviceSerializer(serializers.Serializer):
    subject = SubjectSerializer()
    population = PopulationSerializer()
    cautions = CautionSerializer(
        many=True, help_text="The sourced cautions the request's flags ask for (renal=severe)."
    )
    intake = IntakeSerializer()
    medications = MedicationAdviceSerializer(many=True)
    monitoring = MonitoringSerializer(many=True)
    assumptions = AssumptionsSerializer()
    schedule = ScheduleSerializer()


class AdviceView(APIView):
    """An intake plan: when to take the magnesium, the spacing with each medication in both
    directions, monitoring flags, the sources of every rule, and a day schedule when every
    window can be met (the README describes the day model)."""

    # Per-client limit on work the response cache cannot absorb (config/throttling.py).
    throttle_scope = "uncached"

    @extend_schema(
        summary="Intake plan for a compound or product with medication",
        parameters=[
            OpenApiParameter("compound", str, description="A compound slug (or give product)."),
            OpenApiParameter(
                "product",
                str,
                pattern="^[0-9]{8,14}$",
                description="A published product's GTIN (or give compound).",
            ),
            OpenApiParameter(
                "medication",
                {"type": "array", "items": {"type": "string"}},
                explode=True,
                description="Medications by slug, name (Dutch or English) or brand, "
                "comma-separated or repeated; each may say how often it is taken: "
                "ciprofloxacin:2x (1x, 2x or 3x a day) or levothyroxine:07:00/19:00 "
                "(clock times in the waking day). Without it, once a day is assumed.",
            ),
            OpenApiParameter(
                "population",
                str,
                description="adult (default), child-1-3, child-4-8, child-9-13, child-14-17, "
                "pregnancy or lactation: whose upper limits and reference intakes apply.",
            ),
            OpenApiParameter(
                "renal",
                str,
                enum=list(RENAL_VALUES),
                description="severe: severe renal impairment (eGFR below 30 mL/min); adds the "
                "sourced caution.",
            ),
        ],
        responses=AdviceSerializer,
    )
    def get(self, request):
        # The same rule as every filtered endpoint: a misspelt or repeated parameter is a 400,
        # not silently ignored (``compound`` given twice kept only the last one).
        refuse_unknown_and_repeated_parameters(
            request.query_params, known=set(AdviceForm.base_fields), repeatable={"medication"}
        )
        form = AdviceForm(request.query_params)
        if not form.is_valid():
            raise form_errors(form)
        data = form.cleaned_data
        if data["compound"]:
            compound = CompoundForm.objects.filter(slug=data["compound"]).first()
            if compound is None:
                raise unknown("compound", data["compound"], "unknown_slug")
            subject = {
                "compound": compound.slug,
                "product": None,
                "name": LocalizedField("name").to_representation(compound),
            }
            compounds, intakes, mg_per_day = [compound], 1, None
        else:
            product = (
                Product.objects.filter(gtin=data["product"], status=ProductStatus.PUBLISHED)
                .prefetch_related(
                    Prefetch("ingredients", IngredientLine.objects.select_related("compound"))
                )
                .first()
            )
            if product is None:
                raise unknown("product", data["product"], "unknown_gtin")
            subject = {"compound": None, "product": product.gtin, "name": product.name}
            compounds = [line.compound for line in product.ingredients.all()]
            intakes = math.ceil(product.servings_per_day)
            mg_per_day = product.elemental_mg_per_day
        plan = intake_plan(
            compounds=compounds,
            intakes_per_day=intakes,
            medications=data["medication"],
            index=medication_index(),
        )
        kept = population_knowledge()
        population = population_facts(kept, population_for(kept, data["population"]), mg_per_day)
        cautions = cautions_for(data["renal"])
        return Response(
            AdviceSerializer(
                {"subject": subject, "population": population, "cautions": cautions, **plan}
            ).data
        )
