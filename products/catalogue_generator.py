"""A synthetic catalogue on the real knowledge base, for load tests and the benchmark.

Deterministic for a seed. Generated products have GTIN-13s in the GS1 restricted-circulation
range ``29…`` (the demo catalogue uses ``20…``) and their brands have slugs starting with
``synthetic-``, so they can be found and replaced without touching any other product.
Rows are written in batches through ``services.products_create_in_bulk``, the bulk door every
bulk creation goes through: history rows (path "command"), the stored elemental amounts, the
match rows and the catalogue version follow as on every other write path.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from compounds.models import CompoundForm
from formulary.common.catalogue_version import catalogue_version_bump
from formulary.common.statistics import tables_vacuum_analyze
from formulary.models import Nutrient
from products import calculations
from products.enums import AmountBasis, DosageForm, ProductStatus
from products.gtin import gs1_check_digit
from products.models import Brand, IngredientLine, NutrientLine, Product, ProductIndication
from products.services import products_create_in_bulk

GTIN_PREFIX = "29"
BRAND_SLUG_PREFIX = "synthetic-"
BATCH_SIZE = 5_000
GENERATED_TABLES = (Brand, Product, IngredientLine, NutrientLine, ProductIndication)


@dataclass(frozen=True)
class FormProfile:
    """How products of one dosage form are typically made up."""

    weight: int
    word: str
    units_per_package: tuple[int, ...]
    units_per_serving: tuple[str, ...]
    servings_per_day: tuple[str, ...]
    # Elemental magnesium per serving, mg: the usual range on labels of this form.
    elemental_mg: tuple[int, int]


FORMS = {
    DosageForm.CAPSULE: FormProfile(
        40, "Capsules", (60, 90, 120, 180), ("1", "2", "3"), ("1", "1", "2"), (50, 200)
    ),
    DosageForm.TABLET: FormProfile(
        30, "Tabletten", (30, 60, 90, 120), ("1", "1", "2"), ("1", "1", "2"), (100, 375)
    ),
    DosageForm.CHEWABLE_TABLET: FormProfile(
        8, "Kauwtabletten", (30, 60), ("1", "2"), ("1", "2"), (25, 100)
    ),
    DosageForm.EFFERVESCENT_TABLET: FormProfile(
        7, "Bruistabletten", (10, 20, 40), ("1",), ("1",), (150, 400)
    ),
    DosageForm.POWDER: FormProfile(
        10, "Poeder", (100, 150, 200, 300), ("1", "2.5", "5"), ("1", "1", "2"), (100, 400)
    ),
    DosageForm.LIQUID: FormProfile(
        5, "Vloeibaar", (200, 250, 500), ("5", "10", "15"), ("1", "2"), (50, 250)
    ),
}
STATUS_WEIGHTS = {
    ProductStatus.PUBLISHED: 85,
    ProductStatus.DRAFT: 10,
    ProductStatus.DISCONTINUED: 5,
}
LINE_COUNT_WEIGHTS = {1: 70, 2: 22, 3: 8}
BRAND_WORDS = (
    "Vita",
    "Nova",
    "Puur",
    "Natura",
    "Sana",
    "Bio",
    "Magna",
    "Vital",
    "Terra",
    "Aqua",
    "Sol",
    "Lumen",
    "Forte",
    "Pro",
    "Care",
    "Well",
    "Balans",
    "Kern",
    "Zuiver",
    "Groen",
)


def generated_gtin(number: int) -> str:
    data = f"{GTIN_PREFIX}{number:010d}"
    return f"{data}{gs1_check_digit(data)}"


def generated_products():
    return Product.objects.filter(brand__slug__startswith=BRAND_SLUG_PREFIX)


class CatalogueGenerator:
    def __init__(self, *, seed: int, brands: int, report: Callable[[str], None]):
        self.random = random.Random(seed)
        self.brand_count = brands
        self.report = report
        self.compounds = list(CompoundForm.objects.order_by("slug"))
        self.nutrients = list(Nutrient.objects.filter(unit="mg").order_by("slug"))

    def pick(self, weights: dict):
        return self.random.choices(list(weights), weights=list(weights.values()))[0]

    def brands(self) -> list[Brand]:
        brands = []
        for number in range(1, self.brand_count + 1):
            first, second = self.random.sample(BRAND_WORDS, 2)
            brands.append(
                Brand(
                    slug=f"{BRAND_SLUG_PREFIX}{number:05d}",
                    name=f"{first}{second.lower()} {number:05d}",
                )
            )
        Brand.objects.bulk_create(brands, batch_size=BATCH_SIZE)
        return list(Brand.objects.filter(slug__startswith=BRAND_SLUG_PREFIX).order_by("slug"))

    def product(self, number: int, brand: Brand):
        form = self.pick({form: profile.weight for form, profile in FORMS.items()})
        profile = FORMS[form]
        compounds = self.random.sample(self.compounds, self.pick(LINE_COUNT_WEIGHTS))
        # The serving's magnesium, split over the compounds; labels state whole milligrams.
        total_mg = self.random.randint(*profile.elemental_mg)
        lines = []
        for compound in compounds:
            elemental_mg = Decimal(max(5, round(total_mg / len(compounds))))
            if self.random.random() < 0.7:
                lines.append((compound, elemental_mg, AmountBasis.ELEMENTAL))
            else:
                compound_mg = round(elemental_mg / compound.elemental_magnesium_fraction)
                lines.append((compound, Decimal(compound_mg), AmountBasis.COMPOUND))
        product = Product(
            gtin=generated_gtin(number),
            brand=brand,
            name=f"Magnesium {compounds[0].name_nl.split(' (')[0]} {total_mg} mg {profile.word}",
            dosage_form=form,
            units_per_package=self.random.choice(profile.units_per_package),
            units_per_serving=Decimal(self.random.choice(profile.units_per_serving)),
            servings_per_day=Decimal(self.random.choice(profile.servings_per_day)),
            status=self.pick(STATUS_WEIGHTS),
            vegan=self.random.random() < 0.6,
            gluten_free=self.random.random() < 0.85,
            lactose_free=self.random.random() < 0.9,
            price_eur=(
                None
                if self.random.random() < 0.05
                else Decimal(self.random.randint(395, 3995)) / 100
            ),
        )
        if self.random.random() < 0.5:
            # What a label would declare: the amount its lines give, in whole milligrams.
            product.label_elemental_mg_per_serving = round(
                calculations.elemental_mg_per_serving(
                    calculations.DoseLine(
                        amount_mg=amount,
                        amount_basis=basis,
                        elemental_fraction=compound.elemental_magnesium_fraction,
                    )
                    for compound, amount, basis in lines
                )
            )
        nutrients = []
        if self.nutrients and self.random.random() < 0.2:
            nutrient = self.random.choice(self.nutrients)
            nutrients.append((nutrient, Decimal(self.random.randint(1, 20))))
        return product, lines, nutrients

    def generate(self, count: int) -> None:
        started = time.monotonic()
        with transaction.atomic():
            brands = self.brands()
        for first in range(0, count, BATCH_SIZE):
            batch = [
                self.product(number, self.random.choice(brands))
                for number in range(first + 1, min(first + BATCH_SIZE, count) + 1)
            ]
            products_create_in_bulk(
                products=[product for product, _, _ in batch],
                ingredient_lines=lambda saved, batch=batch: [
                    IngredientLine(
                        product=product, compound=compound, amount_mg=amount, amount_basis=basis
                    )
                    for product, (_, lines, _) in zip(saved, batch, strict=True)
                    for compound, amount, basis in lines
                ],
                nutrient_lines=lambda saved, batch=batch: [
                    NutrientLine(product=product, nutrient=nutrient, amount=amount)
                    for product, (_, _, nutrients) in zip(saved, batch, strict=True)
                    for nutrient, amount in nutrients
                ],
            )
            done = first + len(batch)
            self.report(f"{done:>9} / {count} products  ({time.monotonic() - started:.1f} s)")
        # The first reader after a generated catalogue gets the plans (and the index-only
        # scans) of an analysed, vacuumed one.
        tables_vacuum_analyze(GENERATED_TABLES)


def generated_catalogue_delete() -> int:
    """Delete every generated product, its lines and the generated brands, in bulk.

    Plain SQL deletes: the ORM's delete() would load every row to send its signals.
    """
    tables = {
        model: model._meta.db_table
        for model in (Product, IngredientLine, NutrientLine, ProductIndication, Brand)
    }
    brands = f"SELECT id FROM {tables[Brand]} WHERE slug LIKE %s"
    products = f"SELECT id FROM {tables[Product]} WHERE brand_id IN ({brands})"
    pattern = [f"{BRAND_SLUG_PREFIX}%"]
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (IngredientLine, NutrientLine, ProductIndication):
            cursor.execute(f"DELETE FROM {tables[model]} WHERE product_id IN ({products})", pattern)
        cursor.execute(f"DELETE FROM {tables[Product]} WHERE brand_id IN ({brands})", pattern)
        deleted = cursor.rowcount
        cursor.execute(f"DELETE FROM {tables[Brand]} WHERE slug LIKE %s", pattern)
        catalogue_version_bump(all_products=True)
    return deleted
