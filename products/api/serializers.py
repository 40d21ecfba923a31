"""Products as JSON. The rendering itself is products.catalogue_rows, the one home of it;
these serializers declare its shape for the OpenAPI schema and render single instances."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compounds.serializers import CompoundBriefSerializer
from formulary.common.localization import current_language
from formulary.enums import WordingStatus
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
REFERENCE_KEYS_SCHEMA = {"type": "array", "items": {"type": "string"}}
POPULATION_LIMIT_SCHEMA = {
    "type": "object",
    "required": ["set", "limit_mg", "exceeded", "status", "references", "message"],
    "properties": {
        "set": {
            "type": "boolean",
            "description": "false: the jurisdiction sets no limit for the population.",
        },
        "limit_mg": {"type": "number", "nullable": True},
        "exceeded": {"type": "boolean", "nullable": True},
        "percent_of_limit": {"type": "number", "nullable": True},
        "split_dose_advised": {"type": "boolean"},
        "status": {"type": "string", "nullable": True},
        "references": REFERENCE_KEYS_SCHEMA,
        "message": {"type": "string"},
    },
}
POPULATION_LIMITS_SCHEMA = {
    "type": "object",
    "required": ["slug", "upper_limits"],
    "properties": {
        "slug": {"type": "string"},
        "upper_limits": {
            "type": "object",
            "properties": {"eu": POPULATION_LIMIT_SCHEMA, "us": POPULATION_LIMIT_SCHEMA},
        },
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


@extend_schema_field(POPULATION_LIMITS_SCHEMA)
class PopulationLimitsField(serializers.JSONField):
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
    population = PopulationLimitsField(
        help_text="The daily amount against the supplemental upper limit of the asked "
        "population (population=; adults by default) per jurisdiction, each with its status "
        "and references, or the statement that the jurisdiction sets none."
    )

    with_health_claims = False

    def to_representation(self, product):
        """One product instance (its lines prefetched or not) as the catalogue renders it."""
        columns = {column: product_column(product, column) for column in PRODUCT_COLUMNS}
        lines = [
            (line.compound_id, line.amount_mg, line.amount_basis)
            for line in product.ingredients.all()
        ]
        nutrients = [(line.nutrient_id, line.amount) for line in product.nutrients.all()]
        return product_row(
            columns,
            lines,
            nutrients,
            knowledge(),
            current_language(),
            with_health_claims=self.with_health_claims,
        )


class WordingSerializer(serializers.Serializer):
    text = serializers.CharField()
    wording_status = serializers.ChoiceField(
        choices=WordingStatus.choices,
        help_text="verified: the Official Journal's text; secondary: the register's wording as "
        "third parties copy it; unverified; own_translation: ours, not the official text.",
    )
    official_wording = serializers.BooleanField(
        help_text="True only for a text read in the Official Journal (wording_status verified)."
    )


class ClaimSourceSerializer(serializers.Serializer):
    key = serializers.CharField()
    citation = serializers.CharField()
    url = serializers.URLField(allow_null=True)
    status = serializers.CharField()


class HealthClaimSerializer(WordingSerializer):
    slug = serializers.SlugField()
    note = serializers.CharField(help_text="Variants seen and what is unsettled; may be empty.")
    efsa_ids = serializers.CharField(help_text="The EFSA consolidated-list IDs of the claim.")
    sources = ClaimSourceSerializer(many=True)


class NutrientHealthClaimsSerializer(serializers.Serializer):
    nutrient = serializers.CharField(help_text="magnesium (elemental) or a nutrient slug.")
    name = serializers.CharField()
    may_carry_claims = serializers.BooleanField(
        help_text="The product is at least a source of the nutrient per daily dose."
    )
    verdict = serializers.CharField(
        help_text='E.g. "98 mg magnesium per daily dose = 26 % of the NRV, at least 15 % '
        'needed", or why the product does not qualify.'
    )
    amount_mg_per_day = serializers.FloatField()
    percent_of_nrv = serializers.FloatField(help_text="Rounded half up to a whole number.")
    nrv_mg = serializers.FloatField()
    minimum_percent_of_nrv = serializers.FloatField()
    minimum_mg_per_day = serializers.FloatField(help_text="NRV * minimum percent / 100.")
    basis = serializers.CharField()
    basis_status = serializers.CharField()
    basis_note = serializers.CharField()
    rule_status = serializers.CharField()
    condition = WordingSerializer(help_text="The claims' condition of use.")
    sources = ClaimSourceSerializer(many=True)
    claims = HealthClaimSerializer(
        many=True, help_text="The authorised claims it may carry; empty when it does not qualify."
    )


class ProductDetailSerializer(ProductSerializer):
    """One product: the catalogue's fields and the EU health claims it may carry."""

    health_claims = NutrientHealthClaimsSerializer(
        many=True,
        help_text="EU-authorised health claims (Reg. 432/2012) per nutrient: what the law lets "
        "a label say, if the product is a source of the nutrient. Not evidence: evidence "
        "grades are under indications.",
    )

    with_health_claims = True


def product_column(product, column: str):
    """``brand__slug`` -> ``product.brand.slug``: a values() column read from an instance."""
    value = product
    for part in column.split("__"):
        value = getattr(value, part)
    return value
