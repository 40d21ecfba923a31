"""Products as JSON, with every derived amount computed by products.calculations."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compounds.serializers import CompoundBriefSerializer, LocalizedField, rounded
from products.calculations import line_amounts
from products.selectors import dose_lines, product_dose


class IngredientSerializer(serializers.Serializer):
    compound = CompoundBriefSerializer()
    amount_mg = serializers.SerializerMethodField(help_text="Per serving, as the label states.")
    amount_basis = serializers.CharField()
    compound_mg = serializers.SerializerMethodField(help_text="Per serving.")
    elemental_mg = serializers.SerializerMethodField(help_text="Per serving.")

    def get_amount_mg(self, line) -> float:
        return rounded(line.amount_mg, 3)

    def get_compound_mg(self, line) -> float:
        return rounded(line_amounts(dose_lines([line])[0]).compound_mg, 1)

    def get_elemental_mg(self, line) -> float:
        return rounded(line_amounts(dose_lines([line])[0]).elemental_mg, 1)


class NutrientSerializer(serializers.Serializer):
    slug = serializers.SlugField(source="nutrient.slug")
    name = LocalizedField("name", source="nutrient")
    amount = serializers.SerializerMethodField()
    unit = serializers.CharField(source="nutrient.unit")

    def get_amount(self, line) -> float:
        return rounded(line.amount, 3)


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


class ProductSerializer(serializers.Serializer):
    gtin = serializers.CharField()
    name = serializers.CharField()
    brand = serializers.SerializerMethodField()
    dosage_form = serializers.CharField()
    status = serializers.CharField()
    units_per_package = serializers.IntegerField()
    units_per_serving = serializers.SerializerMethodField()
    servings_per_day = serializers.SerializerMethodField()
    vegan = serializers.BooleanField()
    gluten_free = serializers.BooleanField()
    lactose_free = serializers.BooleanField()
    price_eur = serializers.SerializerMethodField()
    ingredients = IngredientSerializer(many=True, source="ingredients.all")
    nutrients = NutrientSerializer(many=True, source="nutrients.all")
    elemental_mg_per_unit = serializers.SerializerMethodField()
    elemental_mg_per_serving = serializers.SerializerMethodField()
    elemental_mg_per_day = serializers.SerializerMethodField()
    nrv_percent_per_day = serializers.SerializerMethodField(help_text="% of the EU NRV (375 mg).")
    upper_limits = serializers.SerializerMethodField(
        help_text="Adult supplemental upper limit per jurisdiction and whether the daily "
        "amount exceeds it."
    )
    label_elemental_mg_per_serving = serializers.SerializerMethodField()
    label_mismatch = serializers.SerializerMethodField(
        help_text="The label's declared magnesium is more than 5 % from the computed amount; "
        "null when the label declares none."
    )
    indications = serializers.SerializerMethodField(
        help_text="Indications that follow from the product's compounds, with the best grade."
    )

    def dose(self, product):
        cache = self.context.setdefault("doses", {})
        if product.pk not in cache:
            cache[product.pk] = product_dose(
                product,
                nrv_mg=self.context["nrv_mg"],
                upper_limits_mg=self.context["upper_limits_mg"],
            )
        return cache[product.pk]

    @extend_schema_field({
        "type": "object",
        "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
    })
    def get_brand(self, product):
        return {"slug": product.brand.slug, "name": product.brand.name}

    def get_units_per_serving(self, product) -> float:
        return rounded(product.units_per_serving, 3)

    def get_servings_per_day(self, product) -> float:
        return rounded(product.servings_per_day, 2)

    def get_price_eur(self, product) -> float | None:
        return rounded(product.price_eur, 2)

    def get_elemental_mg_per_unit(self, product) -> float:
        return rounded(self.dose(product).elemental_mg_per_unit, 1)

    def get_elemental_mg_per_serving(self, product) -> float:
        return rounded(self.dose(product).elemental_mg_per_serving, 1)

    def get_elemental_mg_per_day(self, product) -> float:
        return rounded(self.dose(product).elemental_mg_per_day, 1)

    def get_nrv_percent_per_day(self, product) -> float | None:
        return rounded(self.dose(product).nrv_percent_per_day, 1)

    @extend_schema_field(UPPER_LIMIT_SCHEMA)
    def get_upper_limits(self, product):
        exceeded = self.dose(product).exceeds_upper_limit
        return {
            jurisdiction: {"limit_mg": rounded(limit, 1), "exceeded": exceeded[jurisdiction]}
            for jurisdiction, limit in self.context["upper_limits_mg"].items()
        }

    def get_label_elemental_mg_per_serving(self, product) -> float | None:
        return rounded(product.label_elemental_mg_per_serving, 1)

    def get_label_mismatch(self, product) -> bool | None:
        return self.dose(product).label_mismatch

    @extend_schema_field(INDICATIONS_SCHEMA)
    def get_indications(self, product):
        found = {}
        for line in product.ingredients.all():
            for link in line.compound.evidence.all():
                entry = found.setdefault(link.indication.slug, {
                    "slug": link.indication.slug,
                    "name": LocalizedField("name").to_representation(link.indication),
                    "best_grade": link.grade,
                    "compounds": [],
                })
                entry["best_grade"] = min(entry["best_grade"], link.grade)
                entry["compounds"].append(line.compound.slug)
        return [found[slug] for slug in sorted(found)]
