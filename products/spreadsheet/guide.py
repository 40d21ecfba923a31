"""What the import page tells shop staff about each column, and the template to download.

Everything here is read from the definitions the importer itself uses: the column lists of
``columns.py`` (required, optional, product or line), the model fields whose validation checks
each cell (type, choices, decimal places, minimum) and the yes/no words, so the guidance cannot
drift from what the importer accepts. A test imports the template's example row.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from products.gtin import gs1_check_digit
from products.models import Brand, IngredientLine, Product
from products.spreadsheet.columns import (
    ALL_COLUMNS,
    BOOLEAN_COLUMNS,
    FALSE_WORDS,
    LINE_COLUMNS,
    NUTRIENT_AMOUNT_SEPARATOR,
    NUTRIENT_SEPARATOR,
    REQUIRED,
    TRUE_WORDS,
)

# Columns that are not a model field of their own, or whose field says too little.
DESCRIPTIONS = {
    "gtin": _("8, 12, 13 or 14 digits with a valid GS1 check digit; the key of the upsert."),
    "brand": _("The brand's name; a brand not yet known is created."),
    "compound": _("A compound slug as /api/v1/compounds/ lists them, e.g. magnesium-bisglycinate."),
    "nutrients": format_lazy(
        _(
            "Other nutrients per serving, as slug{pair}amount in the nutrient's unit, "
            "separated by {separator}, e.g. vitamin-b6{pair}1.4{separator}zinc{pair}5."
        ),
        pair=NUTRIENT_AMOUNT_SEPARATOR,
        separator=NUTRIENT_SEPARATOR,
    ),
}
# The template's example row: one product with one ingredient line and one nutrient.
EXAMPLE_GTIN_DATA = "871234567890"
EXAMPLE = {
    "gtin": f"{EXAMPLE_GTIN_DATA}{gs1_check_digit(EXAMPLE_GTIN_DATA)}",
    "brand": "Voorbeeldmerk",
    "name": "Magnesium Bisglycinaat 200",
    "dosage_form": "capsule",
    "units_per_serving": "2",
    "servings_per_day": "1",
    "status": "draft",
    "units_per_package": "60",
    "vegan": "true",
    "gluten_free": "true",
    "lactose_free": "true",
    "price_eur": "14.95",
    "label_elemental_mg_per_serving": "200",
    "nutrients": f"vitamin-b6{NUTRIENT_AMOUNT_SEPARATOR}1.4",
    "compound": "magnesium-bisglycinate",
    "amount_mg": "1420",
    "amount_basis": "compound",
}


@dataclass(frozen=True)
class ColumnGuide:
    name: str
    required: str
    level: str
    value: str
    example: str


def requirement(column: str) -> str:
    if column in REQUIRED:
        return str(_("required"))
    if column == "units_per_package":
        # Required by the importer for a new product only: an update may leave it out.
        return str(_("for a new product"))
    return str(_("optional"))


def field_of(column: str) -> models.Field:
    model = IngredientLine if column in LINE_COLUMNS else Product
    if column == "brand":
        return Brand._meta.get_field("name")
    return model._meta.get_field(column)


def minimum(field: models.Field) -> Decimal | None:
    values = [v.limit_value for v in field.validators if isinstance(v, MinValueValidator)]
    return max(values) if values else None


def value_text(column: str) -> str:
    """What a cell of ``column`` holds, from its model field."""
    if column in DESCRIPTIONS:
        return str(DESCRIPTIONS[column])
    if column in BOOLEAN_COLUMNS:
        return str(
            format_lazy(
                _("yes or no: {true} or {false}; empty is no."),
                true=" / ".join(sorted(TRUE_WORDS)),
                false=" / ".join(sorted(word for word in FALSE_WORDS if word)),
            )
        )
    field = field_of(column)
    if field.choices:
        return str(
            format_lazy(
                _("one of: {choices}."),
                choices=", ".join(
                    value if str(label) == value else f"{value} ({label})"
                    for value, label in field.choices
                ),
            )
        )
    parts = []
    if isinstance(field, models.IntegerField):
        parts.append(str(_("a whole number")))
    elif isinstance(field, models.DecimalField):
        parts.append(
            str(
                format_lazy(
                    _("a number with a point as the decimal separator, up to {places} decimals"),
                    places=field.decimal_places,
                )
            )
        )
    else:
        parts.append(
            str(format_lazy(_("text, up to {length} characters"), length=field.max_length))
        )
    lowest = minimum(field)
    if lowest is not None:
        parts.append(str(format_lazy(_("at least {minimum}"), minimum=lowest)))
    if field.null:
        parts.append(str(_("empty for none")))
    if field.help_text:
        parts.append(str(field.help_text))
    return "; ".join(parts)


def column_guide() -> list[ColumnGuide]:
    """One entry per column the importer reads, in the order of the template."""
    return [
        ColumnGuide(
            name=column,
            required=requirement(column),
            level=str(_("ingredient line") if column in LINE_COLUMNS else _("product")),
            value=value_text(column),
            example=EXAMPLE[column],
        )
        for column in ALL_COLUMNS
    ]


def template_rows() -> list[list[str]]:
    """The header and the example row, in the import's own format."""
    return [list(ALL_COLUMNS), [EXAMPLE[column] for column in ALL_COLUMNS]]
