"""Writes to products. Every path (admin, API, import, demo data) goes through these."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from compounds.models import CompoundForm
from formulary.models import Nutrient
from products import calculations
from products.models import Brand, IngredientLine, NutrientLine, Product
from products.selectors import dose_lines


@dataclass(frozen=True)
class IngredientInput:
    compound: CompoundForm
    amount_mg: Decimal
    amount_basis: str


@dataclass(frozen=True)
class NutrientInput:
    nutrient: Nutrient
    amount: Decimal


def product_set_amounts(product: Product, lines) -> None:
    """Set (not save) the elemental amounts from ``lines``: ingredient lines with compounds."""
    per_serving = calculations.elemental_mg_per_serving(dose_lines(lines))
    product.elemental_mg_per_serving = per_serving
    product.elemental_mg_per_day = per_serving * product.servings_per_day


def product_refresh_amounts(product: Product) -> None:
    """Store the elemental amounts computed from the product's current lines."""
    lines = IngredientLine.objects.filter(product=product).select_related("compound")
    product_set_amounts(product, lines)
    Product.objects.filter(pk=product.pk).update(
        elemental_mg_per_serving=product.elemental_mg_per_serving,
        elemental_mg_per_day=product.elemental_mg_per_day,
    )


def products_refresh_for_compound(compound: CompoundForm) -> int:
    """After a compound's formula changed: recompute every product that contains it."""
    products = Product.objects.filter(ingredients__compound=compound).distinct()
    count = 0
    for product in products:
        product_refresh_amounts(product)
        count += 1
    return count


def validate_lines(ingredients: list[IngredientInput], nutrients: list[NutrientInput]) -> None:
    errors = {}
    if not ingredients:
        errors["ingredients"] = "A product needs at least one magnesium ingredient line."
    compounds = [line.compound.slug for line in ingredients]
    repeated = sorted({slug for slug in compounds if compounds.count(slug) > 1})
    if repeated:
        errors["ingredients"] = (
            f"Each compound may appear once per product; repeated: {', '.join(repeated)}. "
            "Add the amounts up in one line."
        )
    names = [line.nutrient.slug for line in nutrients]
    repeated = sorted({slug for slug in names if names.count(slug) > 1})
    if repeated:
        errors["nutrients"] = (
            f"Each nutrient may appear once per product; repeated: {', '.join(repeated)}."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def product_save(
    *,
    product: Product,
    ingredients: list[IngredientInput],
    nutrients: list[NutrientInput],
) -> Product:
    """Validate ``product`` and its lines, save them all and store the derived amounts.

    The lines replace the product's current lines. Nothing is written if anything is invalid.
    """
    validate_lines(ingredients, nutrients)
    product.full_clean()
    product.save()
    product.ingredients.all().delete()
    product.nutrients.all().delete()
    line_errors = []
    for index, line in enumerate(ingredients):
        row = IngredientLine(
            product=product,
            compound=line.compound,
            amount_mg=line.amount_mg,
            amount_basis=line.amount_basis,
        )
        try:
            row.full_clean(exclude=["product"])
        except ValidationError as error:
            line_errors.append(f"line {index + 1}: {'; '.join(error.messages)}")
        else:
            row.save()
    for index, line in enumerate(nutrients):
        row = NutrientLine(product=product, nutrient=line.nutrient, amount=line.amount)
        try:
            row.full_clean(exclude=["product"])
        except ValidationError as error:
            line_errors.append(f"nutrient {index + 1}: {'; '.join(error.messages)}")
        else:
            row.save()
    if line_errors:
        raise ValidationError({"ingredients": line_errors})
    product_refresh_amounts(product)
    return product


def product_upsert(
    *,
    gtin: str,
    fields: dict,
    ingredients: list[IngredientInput],
    nutrients: list[NutrientInput],
) -> tuple[Product, bool]:
    """Create the product with this GTIN, or replace its fields and lines."""
    product = Product.objects.filter(gtin=gtin).first()
    created = product is None
    if created:
        product = Product(gtin=gtin)
    for name, value in fields.items():
        setattr(product, name, value)
    return product_save(product=product, ingredients=ingredients, nutrients=nutrients), created


def brand_get_or_create(*, slug: str, name: str) -> Brand:
    brand = Brand.objects.filter(slug=slug).first()
    if brand is None:
        brand = Brand(slug=slug, name=name)
        brand.full_clean()
        brand.save()
    return brand
