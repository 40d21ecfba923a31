"""The JSON a client sends to create or change a product; the answer is ProductSerializer's.

Related records are named by slug. Only the fields listed here are written: a computed field
(elemental amounts, version, ...) or an unknown one in the body is refused by name, so nothing
is assigned that the client was not meant to set.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from compounds.models import CompoundForm
from formulary.models import Nutrient
from products.api.serializers import (
    IngredientSerializer,
    NutrientSerializer,
    ProductDetailSerializer,
)
from products.models import Brand, IngredientLine, NutrientLine, Product
from products.services import (
    PRODUCT_INPUT_FIELDS,
    IngredientInput,
    NutrientInput,
    product_save,
)


class KnownSlugField(serializers.SlugRelatedField):
    """A related record by its slug; an unknown slug is named in the error."""

    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        super().__init__(slug_field="slug", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(
                f"Give the {self.kind} as its slug, a string.", code="invalid"
            )
        found = self.get_queryset().filter(slug=data).first()
        if found is None:
            raise serializers.ValidationError(f"Unknown {self.kind}: {data}.", code="unknown_slug")
        return found


class DecimalNumberField(serializers.DecimalField):
    """A decimal sent as a JSON number (a string also works), as the answers give amounts."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(*args, **kwargs)


class WriteSerializer(serializers.ModelSerializer):
    """Refuses body keys that are not writable fields of this serializer.

    ``computed_fields`` are the names the response shows but a client cannot set; they are
    refused as read-only, every other stray key as unknown.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: DecimalNumberField,
    }

    computed_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            for key in data:
                if key in writable:
                    continue
                if key in self.computed_fields:
                    refused[key] = [
                        ErrorDetail(f"{key} is computed and cannot be written.", code="read_only")
                    ]
                else:
                    refused[key] = [ErrorDetail(f"Unknown field: {key}.", code="unknown_field")]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if refused and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **refused}) from error
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


def computed_fields(output_serializer, *, writable) -> frozenset[str]:
    return frozenset(output_serializer().fields) - set(writable)


INGREDIENT_FIELDS = ["compound", "amount_mg", "amount_basis"]
NUTRIENT_FIELDS = ["nutrient", "amount"]


class IngredientLineWriteSerializer(WriteSerializer):
    """A magnesium compound by slug, with the amount per serving as the label states it."""

    compound = KnownSlugField(kind="compound", queryset=CompoundForm.objects.all())
    computed_fields = computed_fields(IngredientSerializer, writable=INGREDIENT_FIELDS)

    class Meta:
        model = IngredientLine
        fields = INGREDIENT_FIELDS


class NutrientLineWriteSerializer(WriteSerializer):
    """Another nutrient by slug, with the amount per serving in the nutrient's unit."""

    nutrient = KnownSlugField(kind="nutrient", queryset=Nutrient.objects.all())
    computed_fields = computed_fields(NutrientSerializer, writable=NUTRIENT_FIELDS)

    class Meta:
        model = NutrientLine
        fields = NUTRIENT_FIELDS


class ProductWriteSerializer(WriteSerializer):
    """A product with its lines. Lines sent replace all current ones; PATCH may leave them out.

    Brand, compounds and nutrients are named by slug. Computed fields are not accepted.
    """

    brand = KnownSlugField(kind="brand", queryset=Brand.objects.all())
    ingredients = IngredientLineWriteSerializer(
        many=True, help_text="Magnesium compounds per serving; replaces the current lines."
    )
    nutrients = NutrientLineWriteSerializer(
        many=True,
        required=False,
        help_text="Other nutrients per serving; replaces the current ones.",
    )
    computed_fields = computed_fields(ProductDetailSerializer, writable=PRODUCT_INPUT_FIELDS) | {
        "updated_at",
        "version",
    }

    class Meta:
        model = Product
        fields = PRODUCT_INPUT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            # The URL names the product; the body need not repeat its GTIN.
            self.fields["gtin"].required = False

    def validate_gtin(self, gtin):
        if self.instance is not None and gtin != self.instance.gtin:
            raise serializers.ValidationError(
                "The GTIN identifies the product and cannot be changed here; create a product "
                "with the new GTIN instead.",
                code="immutable",
            )
        return gtin

    def create(self, validated_data):
        return self.save_product(Product(), validated_data)

    def update(self, instance, validated_data):
        return self.save_product(instance, validated_data)

    def save_product(self, product, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        ingredients = validated_data.pop("ingredients", None)
        nutrients = validated_data.pop("nutrients", None)
        for name, value in validated_data.items():
            setattr(product, name, value)
        # A PATCH that leaves the lines out keeps the current ones.
        if ingredients is None:
            ingredients = [
                {field: getattr(line, field) for field in INGREDIENT_FIELDS}
                for line in product.ingredients.all()
            ]
        if nutrients is None:
            nutrients = [
                {field: getattr(line, field) for field in NUTRIENT_FIELDS}
                for line in (product.nutrients.all() if product.pk else [])
            ]
        try:
            return product_save(
                product=product,
                ingredients=[IngredientInput(**line) for line in ingredients],
                nutrients=[NutrientInput(**line) for line in nutrients],
                expected_version=expected_version,
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from error
