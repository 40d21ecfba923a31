"""Symptoms (deficiency signs) and risk groups, with the indications they lead to."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from compounds.serializers import IndicationBriefSerializer, LocalizedField, ReferenceSerializer
from formulary.common.localization import translated
from formulary.models import DeficiencySign, Reference, RiskGroup

# magnesium-reference.md §5: serum magnesium reflects total body magnesium poorly.
SYMPTOM_CAVEAT = {
    "en": "A symptom list is not a diagnosis: these signs are non-specific, and serum magnesium "
    "reflects the body's magnesium stores poorly (Fiorentini 2021; Gröber 2015). Have a "
    "suspected deficiency assessed by a doctor.",
    "nl": "Een klachtenlijst is geen diagnose: deze tekenen zijn aspecifiek, en het "
    "serummagnesium weerspiegelt de magnesiumvoorraad van het lichaam slecht (Fiorentini "
    "2021; Gröber 2015). Laat een vermoed tekort door een arts beoordelen.",
}
SYMPTOM_CAVEAT_REFERENCES = ["FIORENTINI2021", "GROBER2015"]


class TermSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedField("name")
    status = serializers.CharField()
    note = LocalizedField("note")
    indications = IndicationBriefSerializer(many=True, source="indications.all")
    references = ReferenceSerializer(many=True, source="references.all")


class SymptomSerializer(TermSerializer):
    kind = serializers.CharField(
        help_text="sign: a sign of deficiency; association: a condition that goes with low "
        "magnesium, not a symptom."
    )


class RiskGroupSerializer(TermSerializer):
    support = serializers.CharField(help_text="supported, weak or hypothesis.")


CaveatSerializer = inline_serializer(
    "SymptomCaveat",
    {
        "text": serializers.CharField(),
        "references": ReferenceSerializer(many=True),
    },
)


class ObjectListSchema(AutoSchema):
    """These lists answer one object (the results, with a caveat), not a bare array, so the
    schema must not wrap the declared response in one as it does for ``list`` actions."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class SymptomViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Signs of magnesium deficiency and associated conditions, with the caveat that a
    symptom list is not a diagnosis. ``symptom=<slug>`` filters products and matches."""

    queryset = DeficiencySign.objects.prefetch_related("indications", "references")
    serializer_class = SymptomSerializer
    pagination_class = None
    schema = ObjectListSchema()

    @extend_schema(
        operation_id="symptoms_list",
        responses=inline_serializer(
            "SymptomList",
            {
                "caveat": CaveatSerializer,
                "results": SymptomSerializer(many=True),
            },
        ),
    )
    def list(self, request, *args, **kwargs):
        references = Reference.objects.filter(key__in=SYMPTOM_CAVEAT_REFERENCES)
        return Response(
            {
                "caveat": {
                    "text": translated(SYMPTOM_CAVEAT),
                    "references": ReferenceSerializer(references, many=True).data,
                },
                # Through the filter backend, which refuses unknown and repeated parameters.
                "results": self.get_serializer(
                    self.filter_queryset(self.get_queryset()), many=True
                ).data,
            }
        )


class RiskGroupViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Groups at risk of magnesium deficiency, with how well the sources support each.
    ``risk_group=<slug>`` filters products and matches through the linked indications."""

    queryset = RiskGroup.objects.prefetch_related("indications", "references")
    serializer_class = RiskGroupSerializer
    pagination_class = None
    schema = ObjectListSchema()

    @extend_schema(
        operation_id="risk_groups_list",
        responses=inline_serializer(
            "RiskGroupList",
            {
                "results": RiskGroupSerializer(many=True),
            },
        ),
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        return Response({"results": self.get_serializer(queryset, many=True).data})
