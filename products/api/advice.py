"""GET /api/v1/advice/: an intake plan for a compound or a product with the person's medication."""

import math

from django import forms
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compounds.advice import intake_plan
from compounds.filters import known_slugs
from compounds.models import CompoundForm
from compounds.selectors import medications_with_rules
from compounds.serializers import LocalizedField, RuleSerializer
from formulary.common.api_fields import SlugListField, refuse_unknown_and_repeated_parameters
from formulary.models import Medication
from products.enums import ProductStatus
from products.models import IngredientLine, Product


class AdviceForm(forms.Form):
    compound = forms.SlugField(required=False, max_length=60)
    product = forms.RegexField(
        r"^[0-9]{8,14}$", required=False, error_messages={"invalid": "A GTIN has 8-14 digits."}
    )
    medication = SlugListField(known=known_slugs(Medication), kind="medication", required=False)

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


class MedicationAdviceSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text="spacing, check_label (no verified window), general_spacing (no specific "
        "rule), monitoring, caution, information.",
    )
    advice = serializers.ListField(child=serializers.CharField())
    rules = RuleSerializer(many=True, help_text="Each rule with its hours and sources.")


class MonitoringSerializer(serializers.Serializer):
    medication = serializers.SlugField()
    mechanism = serializers.CharField()
    action = serializers.CharField()
    advice = serializers.CharField()


class ScheduleTimeSerializer(serializers.Serializer):
    time = serializers.CharField()
    take = serializers.CharField(help_text="magnesium or a medication slug.")
    name = serializers.CharField()


class ScheduleSerializer(serializers.Serializer):
    feasible = serializers.BooleanField()
    day_start = serializers.CharField()
    day_end = serializers.CharField()
    magnesium_intakes_per_day = serializers.IntegerField()
    times = ScheduleTimeSerializer(many=True, help_text="Empty when not feasible.")
    conflicting = serializers.ListField(child=serializers.SlugField())
    message = serializers.CharField()


class SubjectSerializer(serializers.Serializer):
    compound = serializers.SlugField(allow_null=True)
    product = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class AdviceSerializer(serializers.Serializer):
    subject = SubjectSerializer()
    intake = IntakeSerializer()
    medications = MedicationAdviceSerializer(many=True)
    monitoring = MonitoringSerializer(many=True)
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
                description="Medication slugs, comma-separated or repeated.",
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
            compounds, intakes = [compound], 1
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
        medications = (
            list(medications_with_rules().filter(slug__in=data["medication"]))
            if data["medication"]
            else []
        )
        medications.sort(key=lambda m: data["medication"].index(m.slug))
        plan = intake_plan(compounds=compounds, intakes_per_day=intakes, medications=medications)
        return Response(AdviceSerializer({"subject": subject, **plan}).data)
