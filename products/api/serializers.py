"""Products as JSON. The rendering itself is products.catalogue_rows, the one home of it;
these serializers declare its shape for the OpenAPI schema and render single instances."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compounds.serializers import CompoundBriefSerializer
from formulary.common.localization import current_language
from products.catalogue_rows import PRODUCT_COLUMNS, product_row
from products.knowledge import knowledge


class IngredientSerializer(serializers.Serializer):
    compound = CompoundBriefSerializer()
    amount_mg = serializers.FloatField(help_text="Per serving, as the label states.")
    amount_basis = serializers.CharField()
    compound_mg = serializers.FloatField(help_text="Per serving.")
    elemental_mg = serializers.FloatField(help_text="Per serving.")


class NutrientSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    amount = serializers.FloatField()
    unit = serializers.CharField()


class BrandBriefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


UPPER_LIMIT_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {"limit_mg": {"type": "number"}, "exceeded": {"type": "boolean"}},
    },
}
INDICATIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "best_grade": {"type": "string"},
            "compounds": {"type": "array", "items": {"type": "string"}},
        },
    },
}


@extend_schema_field(UPPER_LIMIT_SCHEMA)
class UpperLimitsField(serializers.JSONField):
    pass


@extend_schema_field(INDICATIONS_SCHEMA)
class ProductIndicationsField(serializers.JSONField):
    pass


class ProductSerializer(serializers.Serializer):
    gtin = serializers.CharField()
    name = serializers.CharField()
    brand = BrandBriefSerializer()
    dosage_form = serializers.CharField()
    status = serializers.CharField()
    units_per_package = serializers.IntegerField()
    units_per_serving = serializers.FloatField()
    servings_per_day = serializers.FloatField()
    vegan = serializers.BooleanField()
    gluten_free = serializers.BooleanField()
    lactose_free = serializers.BooleanField()
    price_eur = serializers.FloatField(allow_null=True)
    ingredients = IngredientSerializer(many=True)
    nutrients = NutrientSerializer(many=True)
    elemental_mg_per_unit = serializers.FloatField()
    elemental_mg_per_serving = serializers.FloatField()
    elemental_mg_per_day = serializers.FloatField()
    nrv_percent_per_day = serializers.FloatField(
        allow_null=True, help_text="% of the EU NRV (375 mg)."
    )
    upper_limits = UpperLimitsField(
        help_text="Adult supplemental upper limit per jurisdiction and whether the daily "
        "amount exceeds it."
    )
    label_elemental_mg_per_serving = serializers.FloatField(allow_null=True)
    label_mismatch = serializers.BooleanField(
        allow_null=True,
        help_text="The label's declared magnesium is more than 5 % from the computed amount; "
        "null when the label declares none.",
    )
    indications = ProductIndicationsField(
        help_text="Indications that follow from the product's compounds, with the best grade."
    )

    def to_representation(self, product):
        """One product instance (its lines prefetched or not) as the catalogue renders it."""
        columns = {column: product_column(product, column) for column in PRODUCT_COLUMNS}
        lines = [
            (line.compound_id, line.amount_mg, line.amount_basis)
            for line in product.ingredients.all()
        ]
        nutrients = [(line.nutrient_id, line.amount) for line in product.nutrients.all()]
        return product_row(columns, lines, nutrients, knowledge(), current_language())


def product_column(product, column: str):
    """``brand__slug`` -> ``product.brand.slug``: a values() column read from an instance."""
    value = product
    for part in column.split("__"):
        value = getattr(value, part)
    return value
