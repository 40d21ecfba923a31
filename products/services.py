"""Writes to products. Every path (admin, API, import, demo data) goes through these."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from compounds.models import CompoundForm
from formulary.models import Nutrient
from products import calculations
from products.enums import ProductStatus
from products.matching.index import product_indications_rebuild
from products.models import Brand, IngredientLine, NutrientLine, Product
from products.selectors import dose_lines

# What a writer gives for a product (demo file, API body); everything else is derived.
PRODUCT_INPUT_FIELDS = (
    "gtin",
    "brand",
    "name",
    "dosage_form",
    "units_per_package",
    "units_per_serving",
    "servings_per_day",
    "status",
    "vegan",
    "gluten_free",
    "lactose_free",
    "price_eur",
    "label_elemental_mg_per_serving",
    "ingredients",
    "nutrients",
)


_stored_mg = Product._meta.get_field("elemental_mg_per_day")
STORED_MG_LIMIT = Decimal(10) ** (_stored_mg.max_digits - _stored_mg.decimal_places)


@dataclass(frozen=True)
class IngredientInput:
    compound: CompoundForm
    amount_mg: Decimal
    amount_basis: str


@dataclass(frozen=True)
class NutrientInput:
    nutrient: Nutrient
    amount: Decimal


class StaleProductVersion(Exception):
    """The product was saved by someone else since the writer read it."""

    def __init__(self, current_version: int):
        super().__init__(f"The product is now at version {current_version}.")
        self.current_version = current_version


class ProductNotDeletable(Exception):
    """Only drafts are deleted: a product that was ever listed stays, so its barcode resolves."""

    def __init__(self, product: Product):
        # Translated: the admin shows it in the user's language, the API in the client's.
        if product.status == ProductStatus.PUBLISHED:
            message = gettext(
                "Product %(gtin)s is published and cannot be deleted: discontinue it "
                "instead (status discontinued)."
            ) % {"gtin": product.gtin}
        else:
            message = gettext(
                "Product %(gtin)s is %(status)s and cannot be deleted: only drafts "
                "can. It stays on record so its barcode can still be looked up."
            ) % {"gtin": product.gtin, "status": product.status}
        super().__init__(message)
        self.message = message


def product_check_deletable(product: Product) -> None:
    """The one rule for deleting a product, for the API and the admin alike: drafts only."""
    if product.status != ProductStatus.DRAFT:
        raise ProductNotDeletable(product)


def product_locked(*, product: Product, expected_version: int | None = None) -> Product:
    """The product's row as saved, locked until the transaction ends.

    Refused if it moved past ``expected_version``. Holding the lock from this check to the
    write keeps a second writer from slipping in between.
    """
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleProductVersion(locked.version)
    return locked


def product_set_amounts(product: Product, lines) -> None:
    """Set (not save) the elemental amounts from ``lines``: ingredient lines with compounds."""
    per_serving = calculations.elemental_mg_per_serving(dose_lines(lines))
    product.elemental_mg_per_serving = per_serving
    product.elemental_mg_per_day = per_serving * product.servings_per_day


def product_refresh_amounts(product: Product) -> None:
    """Store the elemental amounts and the match rows computed from the product's current lines."""
    lines = IngredientLine.objects.filter(product=product).select_related("compound")
    product_set_amounts(product, lines)
    Product.objects.filter(pk=product.pk).update(
        elemental_mg_per_serving=product.elemental_mg_per_serving,
        elemental_mg_per_day=product.elemental_mg_per_day,
    )
    product_indications_rebuild(product_ids=[product.pk])


def products_refresh_for_compound(compound: CompoundForm) -> int:
    """After a compound's formula changed: recompute every product that contains it."""
    products = Product.objects.filter(ingredients__compound=compound).distinct()
    refreshed = []
    for product in products:
        product_refresh_amounts(product)
        refreshed.append(product.pk)
    # Their derived amounts may have changed, so what a client read of them is out of date.
    Product.objects.filter(pk__in=refreshed).update(version=F("version") + 1)
    return len(refreshed)


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


def validate_amounts(*, ingredients: list[IngredientInput], servings_per_day) -> None:
    """Refuse lines whose elemental amounts would not fit the columns that store them.

    The stored copies hold at most ``STORED_MG_DIGITS`` whole digits; beyond that SQLite keeps
    a value it cannot read back and PostgreSQL refuses the write, so the writer is told here.
    """
    if not ingredients or not isinstance(servings_per_day, Decimal):
        return
    per_serving = calculations.elemental_mg_per_serving(
        calculations.DoseLine(
            amount_mg=line.amount_mg,
            amount_basis=line.amount_basis,
            elemental_fraction=line.compound.elemental_magnesium_fraction,
        )
        for line in ingredients
    )
    per_day = per_serving * servings_per_day
    if max(per_serving, per_day) >= STORED_MG_LIMIT:
        raise ValidationError(
            {
                "ingredients": gettext(
                    "These amounts give %(mg)s mg elemental magnesium a day, more than the "
                    "catalogue can hold (%(limit)s mg). Check amount_mg and servings_per_day."
                )
                % {"mg": f"{per_day:.0f}", "limit": f"{STORED_MG_LIMIT - 1}"}
            }
        )


@transaction.atomic
def product_save(
    *,
    product: Product,
    ingredients: list[IngredientInput],
    nutrients: list[NutrientInput],
    expected_version: int | None = None,
) -> Product:
    """Validate ``product`` and its lines, save them all and store the derived amounts.

    The lines replace the product's current lines. Nothing is written if anything is invalid,
    or if ``expected_version`` is given and the saved product is at another version.
    """
    if expected_version is not None and not product._state.adding:
        product_locked(product=product, expected_version=expected_version)
    validate_lines(ingredients, nutrients)
    validate_amounts(ingredients=ingredients, servings_per_day=product.servings_per_day)
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
    expected_version: int | None = None,
) -> tuple[Product, bool]:
    """Create the product with this GTIN, or replace its fields and lines."""
    product = Product.objects.filter(gtin=gtin).first()
    created = product is None
    if created:
        product = Product(gtin=gtin)
    for name, value in fields.items():
        setattr(product, name, value)
    saved = product_save(
        product=product,
        ingredients=ingredients,
        nutrients=nutrients,
        expected_version=expected_version,
    )
    return saved, created


@transaction.atomic
def product_delete(*, product: Product, expected_version: int | None = None) -> None:
    locked = product_locked(product=product, expected_version=expected_version)
    product_check_deletable(locked)
    locked.delete()


def brand_get_or_create(*, slug: str, name: str) -> Brand:
    brand = Brand.objects.filter(slug=slug).first()
    if brand is None:
        brand = Brand(slug=slug, name=name)
        brand.full_clean()
        brand.save()
    return brand
