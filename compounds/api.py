"""Read endpoints for pharmacists: compounds, indications, medications, the calculator."""

from decimal import Decimal

from django import forms
from django.http import Http404
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compounds import chemistry
from compounds.filters import CompoundFilter, MedicationFilter
from compounds.medications import medication_index
from compounds.models import CompoundForm
from compounds.selectors import (
    compound_profiles,
    indications_with_evidence,
    rules_with_details,
)
from compounds.serializers import (
    CompoundSerializer,
    ElementalCalculationSerializer,
    IndicationSerializer,
    MedicationSerializer,
)
from formulary.common.api_fields import (
    BoundedDecimalField,
    FieldSelectionMixin,
    refuse_unknown_and_repeated_parameters,
)
from formulary.common.catalogue_version import kept_per_version
from formulary.common.localization import current_language
from formulary.common.numbers import rounded
from formulary.common.read_cache import CachedReadMixin
from formulary.models import Medication

MAX_CALCULATOR_AMOUNT_MG = Decimal("10000000")


class ReadOnlySlugViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]{1,60}"


class IndicationViewSet(CachedReadMixin, ReadOnlySlugViewSet):
    """Indications with the compounds linked to them, graded and sourced."""

    queryset = indications_with_evidence()
    serializer_class = IndicationSerializer


class KeptMedicationsMixin:
    """Rows rendered from the index kept per catalogue version: a page costs one query for its
    slugs, a detail none."""

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "medication_index": medication_index()}

    def list(self, request, *args, **kwargs):
        index = medication_index()
        slugs = self.paginate_queryset(
            self.filter_queryset(self.get_queryset()).values_list("slug", flat=True)
        )
        rows = [index.by_slug[slug] for slug in slugs]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        medication = medication_index().by_slug.get(kwargs[self.lookup_field])
        if medication is None:
            raise Http404
        return Response(self.get_serializer(medication).data)


class MedicationViewSet(CachedReadMixin, KeptMedicationsMixin, ReadOnlySlugViewSet):
    """Drug classes, substances and combination products with the interaction rules in force
    for each, directional spacing hours and the window every source states. ``search`` finds
    any of them by slug, Dutch or English name or NL/BE brand name, forgiving case and accents.
    """

    queryset = Medication.objects.all()
    serializer_class = MedicationSerializer
    filterset_class = MedicationFilter


# The knowledge base is small and changes rarely: its profiles, with everything they cite,
# are loaded once per catalogue version, and a request only queries which compounds it lists.
kept_compound_profiles = kept_per_version(lambda: {c.pk: c for c in compound_profiles()})
kept_rules = kept_per_version(lambda: list(rules_with_details()))


class KeptProfilesMixin:
    # Rendered profiles by (language, compound id), filled as they are asked for. A subclass
    # whose serializer renders more than the knowledge base (products.api.vocabulary's counts)
    # keeps its own, per the versions of what it renders.
    kept_rendered_profiles = staticmethod(kept_per_version(dict))

    def list(self, request, *args, **kwargs):
        ids = self.paginate_queryset(
            self.filter_queryset(CompoundForm.objects.all()).values_list("pk", flat=True)
        )
        return self.get_paginated_response([self.rendered_profile(pk) for pk in ids])

    def retrieve(self, request, *args, **kwargs):
        slug = kwargs[self.lookup_field]
        found = [pk for pk, c in kept_compound_profiles().items() if c.slug == slug]
        if not found:
            raise Http404
        return Response(self.rendered_profile(found[0]))

    def rendered_profile(self, pk: int) -> dict:
        rendered = self.kept_rendered_profiles()
        key = (current_language(), pk)
        if key not in rendered:
            rendered[key] = self.get_serializer(kept_compound_profiles()[pk]).data
        return rendered[key]


class CompoundViewSet(CachedReadMixin, FieldSelectionMixin, KeptProfilesMixin, ReadOnlySlugViewSet):
    """Compound forms: chemistry derived from the formula, facts with their verification."""

    queryset = compound_profiles()
    serializer_class = CompoundSerializer
    filterset_class = CompoundFilter

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "rules": kept_rules()}


class CalculatorForm(forms.Form):
    formula = forms.CharField(max_length=chemistry.MAX_FORMULA_LENGTH, strip=True)
    amount_mg = BoundedDecimalField(
        minimum=Decimal("0"), maximum=MAX_CALCULATOR_AMOUNT_MG, required=False
    )


class ElementalCalculatorView(APIView):
    # Per-client limit on work the response cache cannot absorb (config/throttling.py).
    throttle_scope = "uncached"

    @extend_schema(
        summary="Elemental magnesium of any formula",
        parameters=[
            OpenApiParameter(
                "formula", str, required=True, description="E.g. MgCl2·6H2O or 4MgCO3·Mg(OH)2·5H2O."
            ),
            OpenApiParameter(
                "amount_mg",
                float,
                required=False,
                description="Milligrams of the compound (0 to 10,000,000).",
            ),
        ],
        responses=ElementalCalculationSerializer,
    )
    def get(self, request):
        refuse_unknown_and_repeated_parameters(
            request.query_params, known=set(CalculatorForm.base_fields)
        )
        form = CalculatorForm(request.query_params)
        if not form.is_valid():
            raise translate_validation(form.errors)
        try:
            parsed = chemistry.parse_formula(form.cleaned_data["formula"])
        except chemistry.FormulaError as error:
            raise ValidationError({"formula": [error.message]}, code=error.code) from error
        amount = form.cleaned_data["amount_mg"]
        elemental = (
            None
            if amount is None
            else chemistry.elemental_magnesium_mg(amount, parsed.elemental_magnesium_fraction)
        )
        return Response(
            {
                "formula": parsed.formula,
                "hydrate": parsed.hydrate,
                "water_of_hydration": float(parsed.water_of_hydration),
                "molar_mass": rounded(parsed.molar_mass_g_mol, 3),
                "magnesium_atoms": parsed.magnesium_atoms,
                "elemental_magnesium_percent": rounded(parsed.elemental_magnesium_percent, 2),
                "amount_mg": None if amount is None else float(amount),
                "elemental_mg": rounded(elemental, 2),
            }
        )
