"""POST /api/v1/regimen/: several products, compounds and supplements with the medication.

The body names products by GTIN, magnesium compounds with amounts, other supplements by
nutrient with amounts, and medications with their dosing as advice/ takes them; the answer is
products.regimen's. Every problem of the body is named with its path (``products[1].gtin``)
in the one error envelope, and nothing is written either way: the endpoint only reads.
"""

from decimal import Decimal

from django import forms
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compounds.medications import medication_index
from compounds.models import CompoundForm
from formulary.models import Nutrient
from products.api.advice import (
    AssumptionsSerializer,
    CautionSerializer,
    IntakeSerializer,
    MedicationAdviceSerializer,
    MedicationDosingField,
    MonitoringSerializer,
    PopulationLimitsSerializer,
    PopulationSerializer,
    ScheduleSerializer,
)
from products.enums import AmountBasis, ProductStatus
from products.knowledge import population_knowledge, regimen_knowledge
from products.models import IngredientLine, NutrientLine, Product
from products.populations import RENAL_VALUES, population_for
from products.regimen import CompoundItem, SupplementItem, regimen

MAX_ITEMS = 10
# A compound amount per intake: above the largest licensed daily doses (Neomag up to 24 mmol,
# 583 mg magnesium, i.e. several grams of salt), far below anything a label states.
MAX_COMPOUND_MG = Decimal(20_000)
MAX_INTAKES_PER_DAY = 4
# Another supplement's amount per intake, in its unit (µg for vitamin B12 and D3).
MAX_SUPPLEMENT_AMOUNT = Decimal(100_000)
MAX_SUPPLEMENT_INTAKES = 3


class ProductItemSerializer(serializers.Serializer):
    gtin = serializers.RegexField(
        r"^[0-9]{8,14}$", error_messages={"invalid": "A GTIN has 8-14 digits."}
    )


class CompoundItemSerializer(serializers.Serializer):
    compound = serializers.SlugField(max_length=60)
    amount_mg = serializers.DecimalField(
        max_digits=9,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MAX_COMPOUND_MG,
        help_text="Per intake, mg of the compound or of elemental magnesium (amount_basis).",
    )
    amount_basis = serializers.ChoiceField(
        choices=AmountBasis.choices, default=AmountBasis.COMPOUND
    )
    intakes_per_day = serializers.IntegerField(
        min_value=1, max_value=MAX_INTAKES_PER_DAY, default=1
    )


class SupplementItemSerializer(serializers.Serializer):
    nutrient = serializers.SlugField(max_length=40, help_text="zinc, iron, calcium, vitamin-b6...")
    amount = serializers.DecimalField(
        max_digits=9,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MAX_SUPPLEMENT_AMOUNT,
        help_text="Per intake, in the nutrient's unit (mg, or µg for vitamins B12 and D3).",
    )
    intakes_per_day = serializers.IntegerField(
        min_value=1, max_value=MAX_SUPPLEMENT_INTAKES, default=1
    )


def error(message: str, code: str) -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


def repeated(values: list[str]) -> list[str]:
    return sorted({value for value in values if values.count(value) > 1})


class RegimenRequestSerializer(serializers.Serializer):
    population = serializers.SlugField(max_length=40, required=False, allow_null=True)
    renal = serializers.ChoiceField(
        choices=list(RENAL_VALUES),
        required=False,
        allow_null=True,
        help_text="severe: severe renal impairment (eGFR below 30 mL/min).",
    )
    products = serializers.ListField(
        child=ProductItemSerializer(), max_length=MAX_ITEMS, default=list
    )
    compounds = serializers.ListField(
        child=CompoundItemSerializer(), max_length=MAX_ITEMS, default=list
    )
    supplements = serializers.ListField(
        child=SupplementItemSerializer(),
        max_length=MAX_ITEMS,
        default=list,
        help_text="Other supplements taken on their own (a zinc or iron tablet).",
    )
    medications = serializers.ListField(
        child=serializers.CharField(max_length=80),
        max_length=MAX_ITEMS,
        default=list,
        help_text="As advice/ takes them: ciprofloxacin:2x, levothyroxine:07:00.",
    )

    def validate(self, data):
        """Resolves every name; all problems at once, each at its path."""
        problems = {}
        kept = population_knowledge()
        if data.get("population") and data["population"] not in kept.populations:
            problems["population"] = error(
                f"Unknown population: {data['population']}.", "unknown_slug"
            )
        data["resolved_products"] = self.resolve_products(data["products"], problems)
        data["resolved_compounds"] = self.resolve_compounds(data["compounds"], problems)
        data["resolved_supplements"] = self.resolve_supplements(data["supplements"], problems)
        try:
            data["resolved_medications"] = MedicationDosingField(required=False).clean(
                data["medications"]
            )
        except forms.ValidationError as refused:
            problems["medications"] = [
                ErrorDetail(message, code=item.code)
                for item in refused.error_list
                for message in item.messages
            ]
        if not data["products"] and not data["compounds"] and "products" not in problems:
            problems["products"] = error(
                "Give at least one magnesium product (products) or compound (compounds).",
                "no_magnesium",
            )
        if problems:
            raise ValidationError(problems)
        return data

    @staticmethod
    def resolve_products(items, problems) -> list[Product]:
        gtins = [item["gtin"] for item in items]
        twice = repeated(gtins)
        if twice:
            problems["products"] = error(
                f"Each product once: {', '.join(twice)} given more than once.",
                "repeated_product",
            )
            return []
        found = {
            product.gtin: product
            for product in Product.objects.filter(
                gtin__in=gtins, status=ProductStatus.PUBLISHED
            ).prefetch_related(
                Prefetch("ingredients", IngredientLine.objects.select_related("compound")),
                Prefetch("nutrients", NutrientLine.objects.select_related("nutrient")),
            )
        }
        unknown = {
            i: {"gtin": error(f"Unknown product: {gtin}.", "unknown_gtin")}
            for i, gtin in enumerate(gtins)
            if gtin not in found
        }
        if unknown:
            problems["products"] = unknown
        return [found[gtin] for gtin in gtins if gtin in found]

    @staticmethod
    def resolve_compounds(items, problems) -> list[CompoundItem]:
        slugs = [item["compound"] for item in items]
        twice = repeated(slugs)
        if twice:
            problems["compounds"] = error(
                f"Each compound once: {', '.join(twice)} given more than once.",
                "repeated_compound",
            )
            return []
        found = {c.slug: c for c in CompoundForm.objects.filter(slug__in=slugs)}
        unknown = {
            i: {"compound": error(f"Unknown compound: {slug}.", "unknown_slug")}
            for i, slug in enumerate(slugs)
            if slug not in found
        }
        if unknown:
            problems["compounds"] = unknown
            return []
        return [
            CompoundItem(
                compound=found[item["compound"]],
                amount_mg=item["amount_mg"],
                amount_basis=item["amount_basis"],
                intakes_per_day=item["intakes_per_day"],
            )
            for item in items
        ]

    @staticmethod
    def resolve_supplements(items, problems) -> list[SupplementItem]:
        slugs = [item["nutrient"] for item in items]
        twice = repeated(slugs)
        if twice:
            problems["supplements"] = error(
                f"Each nutrient once: {', '.join(twice)} given more than once.",
                "repeated_supplement",
            )
            return []
        found = {n.slug: n for n in Nutrient.objects.filter(slug__in=slugs)}
        unknown = {
            i: {"nutrient": error(f"Unknown nutrient: {slug}.", "unknown_slug")}
            for i, slug in enumerate(slugs)
            if slug not in found
        }
        if unknown:
            problems["supplements"] = unknown
            return []
        return [
            SupplementItem(
                nutrient=found[item["nutrient"]],
                amount=item["amount"],
                intakes_per_day=item["intakes_per_day"],
            )
            for item in items
        ]


class MagnesiumItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["product", "compound"])
    gtin = serializers.CharField(allow_null=True)
    compound = serializers.SlugField(allow_null=True)
    name = serializers.CharField()
    mg_per_day = serializers.FloatField(help_text="Elemental magnesium a day.")
    intakes_per_day = serializers.IntegerField()
    share_percent = serializers.FloatField(
        allow_null=True, help_text="This item's share of the total."
    )


class MagnesiumSerializer(serializers.Serializer):
    total_mg_per_day = serializers.FloatField()
    items = MagnesiumItemSerializer(many=True)
    upper_limits = PopulationLimitsSerializer(
        help_text="The total against the population's supplemental upper limits."
    )


class NutrientSourceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["product", "supplement"])
    gtin = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    amount_per_day = serializers.FloatField()


class NutrientLimitSerializer(serializers.Serializer):
    stored = serializers.BooleanField(help_text="false: the knowledge base holds no limit.")
    limit = serializers.FloatField(allow_null=True)
    exceeded = serializers.BooleanField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    references = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()


class NutrientLimitsSerializer(serializers.Serializer):
    eu = NutrientLimitSerializer()
    us = NutrientLimitSerializer()


class RegimenNutrientSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    unit = serializers.CharField()
    total_per_day = serializers.FloatField()
    duplicated = serializers.BooleanField(help_text="More than one item holds it.")
    sources = NutrientSourceSerializer(many=True)
    upper_limits = NutrientLimitsSerializer()


class SupplementReferenceSerializer(serializers.Serializer):
    key = serializers.CharField()
    citation = serializers.CharField()
    doi = serializers.CharField(allow_null=True)
    pmid = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    status = serializers.CharField()


class SupplementRuleSourceSerializer(serializers.Serializer):
    reference = SupplementReferenceSerializer()
    stated_supplement_before_mg_hours = serializers.FloatField(allow_null=True)
    stated_supplement_after_mg_hours = serializers.FloatField(allow_null=True)
    stated = serializers.CharField(allow_blank=True)


class SupplementRuleSerializer(serializers.Serializer):
    nutrient = serializers.SlugField()
    mechanism = serializers.CharField()
    action = serializers.CharField(help_text="spacing, or check_label (no sourced window).")
    supplement_before_mg_hours = serializers.FloatField(allow_null=True)
    supplement_after_mg_hours = serializers.FloatField(allow_null=True)
    minimum_daily_amount = serializers.FloatField(allow_null=True)
    advice = serializers.CharField()
    status = serializers.CharField()
    applies = serializers.BooleanField()
    reason = serializers.CharField()
    sources = SupplementRuleSourceSerializer(many=True)


class RegimenSerializer(serializers.Serializer):
    population = PopulationSerializer()
    cautions = CautionSerializer(many=True)
    magnesium = MagnesiumSerializer()
    nutrients = RegimenNutrientSerializer(many=True)
    supplement_rules = SupplementRuleSerializer(many=True)
    intake = IntakeSerializer()
    medications = MedicationAdviceSerializer(many=True)
    monitoring = MonitoringSerializer(many=True)
    assumptions = AssumptionsSerializer()
    schedule = ScheduleSerializer()


EXAMPLE = {
    "population": "adult",
    "products": [{"gtin": "2073400012742"}, {"gtin": "2073100014114"}],
    "compounds": [{"compound": "magnesium-bisglycinate", "amount_mg": 500}],
    "supplements": [{"nutrient": "iron", "amount": 14}],
    "medications": ["levothyroxine:07:00", "ciprofloxacin:2x"],
}


class RegimenView(APIView):
    """Several products, compounds and supplements with the person's medication: the total
    magnesium against the population's limits and each item's share, duplicated nutrients,
    supplement spacing rules, and one day plan (or the intakes that collide)."""

    throttle_scope = "uncached"

    @extend_schema(
        summary="Several products and supplements at once, with medication",
        request=RegimenRequestSerializer,
        responses=RegimenSerializer,
        examples=[OpenApiExample("Three items, two medications", value=EXAMPLE)],
    )
    def post(self, request):
        body = RegimenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        populations = population_knowledge()
        answer = regimen(
            populations,
            regimen_knowledge(),
            population=population_for(populations, data.get("population")),
            products=data["resolved_products"],
            compounds=data["resolved_compounds"],
            supplements=data["resolved_supplements"],
            medications=data["resolved_medications"],
            index=medication_index(),
            renal=data.get("renal"),
        )
        return Response(RegimenSerializer(answer).data)
