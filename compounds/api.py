"""Read endpoints for pharmacists: compounds, indications, medications, the calculator."""

from decimal import Decimal

from django import forms
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compounds import chemistry
from compounds.filters import CompoundFilter
from compounds.selectors import (
    compound_profiles,
    indications_with_evidence,
    medications_with_rules,
    rules_with_details,
)
from compounds.serializers import (
    CompoundSerializer,
    ElementalCalculationSerializer,
    IndicationSerializer,
    MedicationSerializer,
)
from formulary.api_fields import BoundedDecimalField, refuse_unknown_and_repeated_parameters

MAX_CALCULATOR_AMOUNT_MG = Decimal("10000000")


class ReadOnlySlugViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]{1,60}"


class IndicationViewSet(ReadOnlySlugViewSet):
    """Indications with the compounds linked to them, graded and sourced."""

    queryset = indications_with_evidence()
    serializer_class = IndicationSerializer


class MedicationViewSet(ReadOnlySlugViewSet):
    """Medications and their interaction rules, with directional spacing hours."""

    queryset = medications_with_rules()
    serializer_class = MedicationSerializer


class CompoundViewSet(ReadOnlySlugViewSet):
    """Compound forms: chemistry derived from the formula, facts with their verification."""

    queryset = compound_profiles()
    serializer_class = CompoundSerializer
    filterset_class = CompoundFilter

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "rules": list(rules_with_details())}


class CalculatorForm(forms.Form):
    formula = forms.CharField(max_length=chemistry.MAX_FORMULA_LENGTH, strip=True)
    amount_mg = BoundedDecimalField(
        minimum=Decimal("0"), maximum=MAX_CALCULATOR_AMOUNT_MG, required=False
    )


class ElementalCalculatorView(APIView):
    @extend_schema(
        summary="Elemental magnesium of any formula",
        parameters=[
            OpenApiParameter("formula", str, required=True,
                             description="E.g. MgCl2·6H2O or 4MgCO3·Mg(OH)2·5H2O."),
            OpenApiParameter("amount_mg", float, required=False,
                             description="Milligrams of the compound (0 to 10,000,000)."),
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
            None if amount is None
            else chemistry.elemental_magnesium_mg(amount, parsed.elemental_magnesium_fraction)
        )
        return Response({
            "formula": parsed.formula,
            "hydrate": parsed.hydrate,
            "molar_mass": float(round(parsed.molar_mass_g_mol, 3)),
            "magnesium_atoms": parsed.magnesium_atoms,
            "elemental_magnesium_percent": float(round(parsed.elemental_magnesium_percent, 2)),
            "amount_mg": None if amount is None else float(amount),
            "elemental_mg": None if elemental is None else float(round(elemental, 2)),
        })
