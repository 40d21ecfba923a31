"""The vocabularies products are filtered by, each term with its number of published products.

compounds sits below products and cannot count products, so the composition routes these
subclasses: the same endpoints, plus ``product_count``. The counts are the catalogue's facets
over the whole published catalogue (products.facets), so a term's count is the length of
``products/?<filter>=<slug>``; one aggregate query per request.
"""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from compounds.api import CompoundViewSet, IndicationViewSet
from compounds.serializers import CompoundSerializer, IndicationSerializer
from compounds.terms_api import (
    CaveatSerializer,
    RiskGroupSerializer,
    RiskGroupViewSet,
    SymptomSerializer,
    SymptomViewSet,
)
from formulary.common.catalogue_version import COUNTED_ANSWER, kept_per_version
from products.facets import facet_counts
from products.selectors import published_products


@extend_schema_field({"type": "integer", "minimum": 0})
class ProductCountField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(
            source="slug",
            read_only=True,
            help_text="Published products with this term: the length of the product list "
            "filtered on it.",
            **kwargs,
        )

    def to_representation(self, slug):
        return self.context["product_counts"].get(slug, 0)


class ProductCountsMixin:
    facet: str
    # The counts change when a product is published, withdrawn or given other compounds; a
    # name or price edit leaves them (formulary.common.catalogue_version.PRODUCT_TERMS).
    read_depends_on = COUNTED_ANSWER

    def get_serializer_context(self):
        # Counted once per request: compounds/ asks for a context per profile it renders.
        if not hasattr(self, "product_counts"):
            self.product_counts = {
                item["value"]: item["count"]
                for item in facet_counts(self.facet, published_products())
            }
        return {**super().get_serializer_context(), "product_counts": self.product_counts}


class IndicationCountedSerializer(IndicationSerializer):
    product_count = ProductCountField()


class CompoundCountedSerializer(CompoundSerializer):
    product_count = ProductCountField()


class SymptomCountedSerializer(SymptomSerializer):
    product_count = ProductCountField()


class RiskGroupCountedSerializer(RiskGroupSerializer):
    product_count = ProductCountField()


class CountedIndicationViewSet(ProductCountsMixin, IndicationViewSet):
    __doc__ = IndicationViewSet.__doc__
    facet = "indication"
    serializer_class = IndicationCountedSerializer


class CountedCompoundViewSet(ProductCountsMixin, CompoundViewSet):
    __doc__ = CompoundViewSet.__doc__
    facet = "compound"
    serializer_class = CompoundCountedSerializer
    kept_rendered_profiles = staticmethod(kept_per_version(dict, depends_on=COUNTED_ANSWER))


@extend_schema_view(
    list=extend_schema(
        operation_id="symptoms_list",
        responses=inline_serializer(
            "SymptomList",
            {"caveat": CaveatSerializer, "results": SymptomCountedSerializer(many=True)},
        ),
    )
)
class CountedSymptomViewSet(ProductCountsMixin, SymptomViewSet):
    __doc__ = SymptomViewSet.__doc__
    facet = "symptom"
    serializer_class = SymptomCountedSerializer


@extend_schema_view(
    list=extend_schema(
        operation_id="risk_groups_list",
        responses=inline_serializer(
            "RiskGroupList", {"results": RiskGroupCountedSerializer(many=True)}
        ),
    )
)
class CountedRiskGroupViewSet(ProductCountsMixin, RiskGroupViewSet):
    __doc__ = RiskGroupViewSet.__doc__
    facet = "risk_group"
    serializer_class = RiskGroupCountedSerializer
