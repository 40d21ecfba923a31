"""GET /api/v1/products/match/: published products ranked for indications, with explanations."""

from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers

from formulary.common.api_fields import FieldSelectionMixin, refuse_parameters_unknown_to
from formulary.common.catalogue_version import COLLECTION_ANSWER
from formulary.common.numbers import MG_PLACES, rounded
from formulary.common.read_cache import CachedReadMixin
from formulary.enums import Jurisdiction
from products.api.match_filters import MatchFilter
from products.api.match_statement import candidates_for
from products.enums import ProductStatus
from products.knowledge import knowledge, population_knowledge
from products.matching import weights as match_weights
from products.matching.explain import MatchRequest, explain, prefetch_page
from products.matching.ranking import TopMatchesPages
from products.models import Product
from products.populations import cautions_for, population_for

WARNING_CODES = [
    "upper_limit_exceeded",
    "no_upper_limit",
    "renal_impairment",
    "split_daily_dose",
    "medication_spacing",
    "medication_check_label",
    "medication_monitoring",
    "medication_caution",
    "medication_information",
    "laxative_tendency",
    "unverified_data",
]
FACTOR_SCHEMA = {
    "type": "object",
    "required": ["value", "weight", "points"],
    "properties": {
        "value": {"type": "number", "minimum": 0, "maximum": 1},
        "weight": {"type": "number"},
        "points": {"type": "number", "description": "value * weight * 100"},
    },
}


class WarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=WARNING_CODES)
    message = serializers.CharField()


class EvidenceFactSerializer(serializers.Serializer):
    indication = serializers.SlugField()
    compound = serializers.SlugField()
    grade = serializers.CharField(help_text="A (consistent trials) to D (practice or opinion).")
    basis = serializers.CharField(help_text="magnesium or carrier: what the evidence rests on.")
    carrier = serializers.SlugField()
    status = serializers.CharField(help_text="How far the link's rationale was verified.")
    references = serializers.ListField(
        child=serializers.CharField(), help_text="Reference keys; see compounds/{slug}/."
    )


NUMBER_OR_NULL = {"type": "number", "nullable": True}
FIGURES_SCHEMA = {
    "type": "object",
    "properties": {
        "elemental_mg_per_day": {"type": "number"},
        "effective_range_mg": {"type": "array", "items": {"type": "number"}},
        "dose_position": {"type": "string", "enum": ["below", "within", "above"]},
        "jurisdiction": {"type": "string"},
        "population": {"type": "string"},
        "upper_limit_set": {"type": "boolean"},
        "upper_limit_mg": NUMBER_OR_NULL,
        "percent_of_upper_limit": NUMBER_OR_NULL,
        "upper_limit_exceeded": {"type": "boolean", "nullable": True},
        "laxative_tendency": {"type": "string"},
        "laxative_compound": {"type": "string"},
        "euro_per_100mg_elemental": NUMBER_OR_NULL,
    },
}


class MatchSerializer(serializers.Serializer):
    gtin = serializers.CharField(source="product.gtin")
    name = serializers.CharField(source="product.name")
    brand = serializers.SerializerMethodField()
    dosage_form = serializers.CharField(source="product.dosage_form")
    elemental_mg_per_day = serializers.SerializerMethodField()
    price_eur = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField(help_text="0-100: the sum of the factors' points.")
    factors = serializers.SerializerMethodField(
        help_text="Each component's value (0-1), weight and points; see the README."
    )
    covered_indications = serializers.ListField(
        child=serializers.SlugField(), help_text="The asked indications this product covers."
    )
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Sentences in the request language."
    )
    evidence = EvidenceFactSerializer(
        many=True,
        help_text="Per covered indication, the best evidence link the first reasons name: "
        "for a client that renders its own text.",
    )
    figures = serializers.SerializerMethodField(
        help_text="The numbers the dose, headroom, tolerability and price reasons state."
    )
    warnings = WarningSerializer(many=True)

    @extend_schema_field(FIGURES_SCHEMA)
    def get_figures(self, result):
        return figures_row(result["figures"])

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
        }
    )
    def get_brand(self, result):
        brand = result["product"].brand
        return {"slug": brand.slug, "name": brand.name}

    def get_elemental_mg_per_day(self, result) -> float:
        return rounded(result["product"].elemental_mg_per_day, MG_PLACES)

    def get_price_eur(self, result) -> float | None:
        return rounded(result["product"].price_eur, 2)

    def get_score(self, result) -> float:
        return rounded(result["score"], 1)

    @extend_schema_field(
        {
            "type": "object",
            "required": list(match_weights.WEIGHTS),
            "properties": {name: FACTOR_SCHEMA for name in match_weights.WEIGHTS},
        }
    )
    def get_factors(self, result):
        return factors_row(result["factors"])


def figures_row(figures: dict) -> dict:
    low, high = figures["effective_range_mg"]
    return {
        **figures,
        # Rounded as the sentences print them.
        "elemental_mg_per_day": rounded(figures["elemental_mg_per_day"], 1),
        "effective_range_mg": [rounded(low, 0), rounded(high, 0)],
        "upper_limit_mg": rounded(figures["upper_limit_mg"], 0),
        "percent_of_upper_limit": rounded(figures["percent_of_upper_limit"], 1),
        "euro_per_100mg_elemental": rounded(figures["euro_per_100mg_elemental"], 2),
    }


def factors_row(factors: dict) -> dict:
    return {
        name: {
            "value": rounded(factor.value, 3),
            "weight": rounded(factor.weight, 2),
            "points": rounded(factor.points, 1),
        }
        for name, factor in factors.items()
    }


def match_row(result: dict) -> dict:
    """``MatchSerializer(result).data`` as a plain dict, without the serializer's per-field
    machinery (a quarter of an uncached answer's time); tests/test_matching.py holds the two
    equal. The texts are ``str`` already, so they need no ``str()`` as CharField gives them."""
    product = result["product"]
    return {
        "gtin": product.gtin,
        "name": product.name,
        "brand": {"slug": product.brand.slug, "name": product.brand.name},
        "dosage_form": product.dosage_form,
        "elemental_mg_per_day": rounded(product.elemental_mg_per_day, MG_PLACES),
        "price_eur": rounded(product.price_eur, 2),
        "score": rounded(result["score"], 1),
        "factors": factors_row(result["factors"]),
        "covered_indications": result["covered_indications"],
        "reasons": result["reasons"],
        "evidence": result["evidence"],
        "figures": figures_row(result["figures"]),
        "warnings": result["warnings"],
    }


# The fields= parameter's choices (formulary.common.api_fields): the serializer's fields, read
# once rather than built again on every request.
MATCH_FIELDS = tuple(MatchSerializer().fields)


class ProductMatchView(CachedReadMixin, FieldSelectionMixin, generics.ListAPIView):
    """Published products that fit the asked indications, best first, each with its score
    explained: factors, reasons naming the data, and warnings with stable codes.

    Answers come from the response cache like the catalogue's (formulary.common.read_cache)."""

    # Per-client limit on work the response cache cannot absorb (config/throttling.py).
    throttle_scope = "uncached"

    serializer_class = MatchSerializer
    read_depends_on = COLLECTION_ANSWER
    filterset_class = MatchFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return Product.objects.filter(status=ProductStatus.PUBLISHED).select_related("brand")

    def selectable_fields(self) -> tuple[str, ...]:
        return MATCH_FIELDS

    def candidates(self):
        """The products to rank (products.api.match_statement): validated as
        StrictFilterBackend does, the view keeping the cleaned values for ranking."""
        refuse_parameters_unknown_to(self, self.request.query_params)
        queryset = self.get_queryset()
        backend = DjangoFilterBackend()
        self.filterset = backend.get_filterset(self.request, queryset, self)
        if not self.filterset.is_valid():
            raise translate_validation(self.filterset.errors)
        return candidates_for(self.filterset, queryset)

    @extend_schema(summary="Products ranked for indications, with explained scores")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        return self.read_through_cache(request, self.ranked_list, *args, **kwargs)

    def ranked_list(self, request, *args, **kwargs):
        products = self.candidates()
        cleaned = self.filterset.form.cleaned_data
        slugs = cleaned["indication"]
        jurisdiction = cleaned.get("jurisdiction") or Jurisdiction.EU
        kept = knowledge()
        populations = population_knowledge()
        population = population_for(populations, cleaned.get("population"))
        limit = populations.population_limits[population.slug, jurisdiction]
        adult = kept.upper_limits[jurisdiction]
        # The match rows' points carry the adult limit's headroom; another limit moves a
        # product's points by at most the headroom's weight (products.matching.ranking).
        same_limit = (limit and limit.amount_mg) == (adult and adult.amount_mg)
        indications = [kept.indications[slug] for slug in slugs]
        page = self.paginate_queryset(
            TopMatchesPages(
                products,
                indication_ids=[indication.pk for indication in indications],
                jurisdiction=jurisdiction,
                limit_mg=limit.amount_mg if limit else None,
                headroom_slack=0.0 if same_limit else float(match_weights.HEADROOM_WEIGHT),
            )
        )
        prefetch_page(page, slugs)
        medications = cleaned.get("medication") or []
        match_request = MatchRequest(
            indications=indications,
            limit=limit,
            jurisdiction=jurisdiction,
            rules=kept.rules_for(medications),
            population=population,
            cautions=cautions_for(cleaned.get("renal")),
        )
        results = [explain(product, match_request) for product in page]
        return self.get_paginated_response([match_row(result) for result in results])
