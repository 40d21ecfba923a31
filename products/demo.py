"""Loads the demo catalogue from fixtures/demo_products.yaml through the product services."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from compounds.models import CompoundForm
from formulary.common.loading import FIXTURES_DIR, LoadError, describe, pick, read_yaml, resolve
from formulary.models import Nutrient
from products.services import (
    PRODUCT_INPUT_FIELDS,
    IngredientInput,
    NutrientInput,
    brand_get_or_create,
    product_upsert,
)

DEMO_FILE = FIXTURES_DIR / "demo_products.yaml"


def decimal(value, *, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise LoadError(f"{where}: {value!r} is not a number.") from error


@transaction.atomic
def load_demo_products(report=print) -> None:
    data = read_yaml(DEMO_FILE)
    name = DEMO_FILE.name
    brands = {
        row["slug"]: brand_get_or_create(slug=row["slug"], name=row["name"])
        for row in data.get("brands") or []
    }
    compounds = {c.slug: c for c in CompoundForm.objects.all()}
    nutrients = {n.slug: n for n in Nutrient.objects.all()}
    if not compounds:
        raise LoadError("The knowledge base is empty: run `manage.py load_knowledge_base` first.")
    rows = data.get("products") or []
    created = updated = 0
    for i, row in enumerate(rows):
        where = f"{name}: products[{i}] ({row.get('gtin')})"
        values = pick(row, PRODUCT_INPUT_FIELDS, where=where)
        ingredients = [
            IngredientInput(
                compound=resolve(compounds, [line["compound"]], kind="compound", where=where)[0],
                amount_mg=decimal(line["amount_mg"], where=where),
                amount_basis=line["basis"],
            )
            for line in values.pop("ingredients", [])
        ]
        nutrient_lines = [
            NutrientInput(
                nutrient=resolve(nutrients, [line["nutrient"]], kind="nutrient", where=where)[0],
                amount=decimal(line["amount"], where=where),
            )
            for line in values.pop("nutrients", None) or []
        ]
        values["brand"] = resolve(brands, [values["brand"]], kind="brand", where=where)[0]
        for field in (
            "units_per_serving",
            "servings_per_day",
            "price_eur",
            "label_elemental_mg_per_serving",
        ):
            values[field] = decimal(values.get(field), where=where)
        try:
            _, was_created = product_upsert(
                gtin=str(values.pop("gtin")),
                fields=values,
                ingredients=ingredients,
                nutrients=nutrient_lines,
            )
        except ValidationError as error:
            raise LoadError(f"{where}: {describe(error)}") from error
        created += was_created
        updated += not was_created
        if (i + 1) % 10 == 0 or i + 1 == len(rows):
            report(f"  products: {i + 1}/{len(rows)}")
    report(f"  {created} created, {updated} updated, {len(brands)} brands")
