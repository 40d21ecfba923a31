"""Every write of a product or its lines, and the bookkeeping each write ends with.

The doors and the service each one goes through:

| door | service |
|---|---|
| API create, replace, change; demo data; history revert | ``product_save`` / ``product_upsert`` |
| admin change form (the form saves the product, its inlines the lines) | ``product_lines_saved`` |
| admin bulk publish, unpublish, discontinue | ``products_set_status`` |
| spreadsheet import, write half | ``products_create_in_bulk``, ``products_changed_in_bulk`` |
| catalogue generator | ``products_create_in_bulk`` |
| compound change (``products.receivers``) | ``products_refresh_for_compound`` |
| evidence link change (``products.receivers``) | ``products_refresh_for_compounds`` |
| delete (API and admin) | ``product_delete`` |

Each of them ends in ``products_refresh``, the one home of the bookkeeping: the stored elemental
amounts recomputed from the saved lines (``products.calculations``), ``version`` raised in the
database and ``updated_at`` set where the door has not saved the row itself, the match rows
(``products.matching.index``) and the catalogue version bump. It takes any number of products
in a constant number of queries per batch, so a bulk door costs the same few statements for one
product or a thousand. History rows are written by the write itself, with the path that
``formulary.common.history`` holds: a ``save()`` through simple-history's signals, the bulk
doors through ``bulk_*_with_history``. A compound or evidence change is recorded in the history
of the compound or the link; the products it refreshes change no recorded field.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from compounds.models import CompoundForm
from formulary.common.catalogue_version import catalogue_version_bump
from formulary.common.history import bulk_history_delete, history_attrs
from formulary.models import Nutrient
from products import calculations
from products.enums import ProductStatus
from products.matching.index import product_indications_rebuild
from products.models import Brand, IngredientLine, NutrientLine, Product

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


# Products refreshed per statement: well below every database's limit of bound parameters.
REFRESH_BATCH = 2000
AMOUNT_FIELDS = ("elemental_mg_per_serving", "elemental_mg_per_day")


def update_rows(
    model: type[models.Model], objs: list[models.Model], names: list[str], *, extra: str = ""
) -> None:
    """One UPDATE statement run for every object, with the fields' own database conversion.

    bulk_update() builds a CASE expression per field and row, which costs milliseconds per
    product in Python; executemany() sends one prepared statement with many parameter rows.
    ``extra`` is SQL added to the SET list, the same for every row (``version = version + 1``).
    """
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join([*(f"{quote(f.column)} = %s" for f in fields), *filter(None, [extra])])
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def stored_amounts(product_ids: list[int], *, raise_version: bool, now: datetime) -> None:
    """Recompute and store the elemental amounts of ``product_ids`` from their saved lines."""
    lines = defaultdict(list)
    for product_id, amount_mg, amount_basis, percent in IngredientLine.objects.filter(
        product_id__in=product_ids
    ).values_list(
        "product_id", "amount_mg", "amount_basis", "compound__elemental_magnesium_percent"
    ):
        lines[product_id].append(
            calculations.DoseLine(
                amount_mg=amount_mg, amount_basis=amount_basis, elemental_fraction=percent / 100
            )
        )
    products = []
    for pk, servings_per_day in Product.objects.filter(pk__in=product_ids).values_list(
        "pk", "servings_per_day"
    ):
        per_serving = calculations.elemental_mg_per_serving(lines[pk])
        products.append(
            Product(
                pk=pk,
                elemental_mg_per_serving=per_serving,
                elemental_mg_per_day=per_serving * servings_per_day,
                updated_at=now,
            )
        )
    names = [*AMOUNT_FIELDS, "updated_at"] if raise_version else list(AMOUNT_FIELDS)
    # Raised in the database, not from a copy in memory, as Product.save() does.
    update_rows(Product, products, names, extra="version = version + 1" if raise_version else "")


@transaction.atomic
def products_refresh(
    *,
    product_ids: Iterable[int],
    raise_version: bool = True,
    now: datetime | None = None,
    terms: bool = True,
) -> int:
    """The bookkeeping after any write of products or their lines; returns how many.

    Stores the elemental amounts computed from the saved lines, raises ``version`` and sets
    ``updated_at`` (unless the door saved the rows through ``Product.save()``, which did both:
    ``raise_version=False``), rebuilds the match rows and bumps the catalogue version. Seven
    statements per batch of ``REFRESH_BATCH`` products (the lines, the products, one UPDATE
    run for all of them, the match rows' DELETE and INSERT ... SELECT, the UPDATEs of their
    signatures and of the products' links), whatever their number.
    ``terms=False``: the write changed no product's status nor compounds, or its signals
    said so already (the vocabularies' product counts stay cached).
    """
    ids = list(product_ids)
    now = now or timezone.now()
    for start in range(0, len(ids), REFRESH_BATCH):
        batch = ids[start : start + REFRESH_BATCH]
        stored_amounts(batch, raise_version=raise_version, now=now)
        product_indications_rebuild(product_ids=batch)
    # Bulk statements send no signals: the answers that may show these products are stale.
    catalogue_version_bump(products=ids, terms=terms)
    return len(ids)


def product_lines_saved(*, product: Product) -> None:
    """After a door saved the product (``save()``) and then its lines itself: the admin form.

    Those saves sent signals, which bumped the counts if the status or compounds changed.
    """
    products_refresh(product_ids=[product.pk], raise_version=False, terms=False)
    product.refresh_from_db(fields=list(AMOUNT_FIELDS))


def products_refresh_for_compounds(compound_ids: Iterable[int]) -> int:
    """After a change of compounds or their evidence: refresh every product containing one.

    Their amounts, names or indications may have changed, so what a client read of them is
    out of date: their versions are raised. Set-based: no statement per product.
    """
    product_ids = (
        IngredientLine.objects.filter(compound_id__in=list(compound_ids))
        .order_by("product_id")
        .values_list("product_id", flat=True)
        .distinct()
    )
    return products_refresh(product_ids=product_ids)


def products_refresh_for_compound(compound: CompoundForm) -> int:
    """After a compound's formula, laxative tendency or names changed."""
    return products_refresh_for_compounds([compound.pk])


@transaction.atomic
def products_set_status(*, products: QuerySet[Product], status: str) -> int:
    """Give ``products`` the status ``status`` in bulk; returns how many changed.

    The rows are locked, a history row is written for each (the path is the current one) and
    the bookkeeping follows in bulk. Products that already have the status are left alone.
    """
    changing = list(products.exclude(status=status).select_for_update())
    now = timezone.now()
    for product in changing:
        product.status = status
        product.updated_at = now
    bulk_update_with_history(
        changing,
        Product,
        ["status", "updated_at"],
        batch_size=500,
        custom_historical_attrs=history_attrs(),
    )
    products_refresh(product_ids=[product.pk for product in changing], now=now)
    return len(changing)


def history_options(user) -> dict:
    return {"default_user": user, "custom_historical_attrs": history_attrs(), "batch_size": 1000}


@transaction.atomic
def products_create_in_bulk(
    *,
    products: list[Product],
    ingredient_lines: Callable[[list[Product]], list[IngredientLine]],
    nutrient_lines: Callable[[list[Product]], list[NutrientLine]],
    user=None,
) -> list[Product]:
    """Create ``products`` and then their lines, with history rows, and do the bookkeeping.

    The line factories are called with the saved products, so the lines can point at them.
    """
    options = history_options(user)
    saved = bulk_create_with_history(products, Product, **options)
    bulk_create_with_history(ingredient_lines(saved), IngredientLine, **options)
    bulk_create_with_history(nutrient_lines(saved), NutrientLine, **options)
    # New rows start at version 1; their amounts are computed from the lines just saved.
    products_refresh(product_ids=[product.pk for product in saved], raise_version=False)
    return saved


@transaction.atomic
def products_changed_in_bulk(
    *,
    products: list[Product],
    fields: list[str],
    line_replacements: list[tuple[type[models.Model], list[Product], list[models.Model]]],
    user=None,
) -> None:
    """Store ``fields`` of the existing ``products``, replace some line sets, then bookkeep.

    ``line_replacements``: (line model, products whose lines of that model are replaced, the
    new lines). The product rows are recorded before their lines, as every other door does.
    """
    options = history_options(user)
    now = timezone.now()
    for product in products:
        product.updated_at = now  # recorded in the history row below
    update_rows(Product, products, [*fields, "updated_at"])
    Product.history.bulk_history_create(products, update=True, **options)
    for model, replaced, new_lines in line_replacements:
        if not replaced:
            continue
        old = model.objects.filter(product__in=replaced)
        bulk_history_delete(list(old), model, user=user)
        # One DELETE without loading the rows or sending signals: delete() would record each
        # line's "deleted" history row a second time, one INSERT per line.
        old._raw_delete(old.db)
        bulk_create_with_history(new_lines, model, **options)
    terms = "status" in fields or any(
        model is IngredientLine and replaced for model, replaced, _ in line_replacements
    )
    products_refresh(product_ids=[product.pk for product in products], now=now, terms=terms)


def repeated_names(rows: list, name_of: Callable) -> str:
    """The names of ``rows`` (compounds, nutrients) that occur more than once, sorted."""
    names = [name_of(row) for row in rows if row is not None]
    return ", ".join(sorted({name for name in names if names.count(name) > 1}))


def slug_of(row) -> str:
    return row.slug


def ingredient_lines_problem(compounds: list, *, name_of: Callable = slug_of) -> str | None:
    """What is wrong with a product's magnesium lines, given their compounds, or None.

    At least one line; a compound at most once (the unique constraint would refuse a repeat
    too, but with a message about "duplicate data"). A line whose compound is not chosen yet
    (None) counts as a line but is not named. ``name_of`` names a compound in the message: the
    slug for the API and the import, which name compounds by slug; the admin shows names.
    """
    if not compounds:
        return gettext("A product needs at least one magnesium ingredient line.")
    repeated = repeated_names(compounds, name_of)
    if repeated:
        return gettext(
            "Each compound may appear once per product; repeated: %(names)s. "
            "Add the amounts up in one line."
        ) % {"names": repeated}
    return None


def nutrient_lines_problem(nutrients: list, *, name_of: Callable = slug_of) -> str | None:
    """What is wrong with a product's other nutrient lines, given their nutrients, or None."""
    repeated = repeated_names(nutrients, name_of)
    if repeated:
        return gettext("Each nutrient may appear once per product; repeated: %(names)s.") % {
            "names": repeated
        }
    return None


def validate_lines(ingredients: list[IngredientInput], nutrients: list[NutrientInput]) -> None:
    """The line rules of every door: the API, the loaders and the import (the admin's inlines
    call the two ``*_lines_problem`` functions, one per inline)."""
    errors = {
        "ingredients": ingredient_lines_problem([line.compound for line in ingredients]),
        "nutrients": nutrient_lines_problem([line.nutrient for line in nutrients]),
    }
    errors = {key: message for key, message in errors.items() if message}
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


def lines_unchanged(
    *, product: Product, ingredients: list[IngredientInput], nutrients: list[NutrientInput]
) -> bool:
    """Whether the product already has exactly these lines, in this order.

    A write that leaves the lines as they were keeps them: no history rows for lines nobody
    changed, and the vocabularies' product counts stay cached.
    """
    stored_ingredients = list(
        product.ingredients.values_list("compound_id", "amount_mg", "amount_basis")
    )
    stored_nutrients = list(product.nutrients.values_list("nutrient_id", "amount"))
    return stored_ingredients == [
        (line.compound.pk, line.amount_mg, line.amount_basis) for line in ingredients
    ] and stored_nutrients == [(line.nutrient.pk, line.amount) for line in nutrients]


def lines_replace(
    *, product: Product, ingredients: list[IngredientInput], nutrients: list[NutrientInput]
) -> None:
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
    adding = product._state.adding
    product.save()
    if adding or not lines_unchanged(product=product, ingredients=ingredients, nutrients=nutrients):
        lines_replace(product=product, ingredients=ingredients, nutrients=nutrients)
    product_lines_saved(product=product)
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
