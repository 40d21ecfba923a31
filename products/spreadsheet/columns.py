"""The columns of the product spreadsheet and how a cell is written.

Rows sharing a GTIN form one product; its product columns must agree on every row. The
amounts are per serving, as on the label.
"""

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# Identify the product and its line: required, in this order in an export.
PRODUCT_REQUIRED = (
    "gtin",
    "brand",
    "name",
    "dosage_form",
    "units_per_serving",
    "servings_per_day",
    "status",
)
LINE_COLUMNS = ("compound", "amount_mg", "amount_basis")
REQUIRED = (*PRODUCT_REQUIRED, *LINE_COLUMNS)
# An absent optional column leaves that field of an existing product as it is.
PRODUCT_OPTIONAL = (
    "units_per_package",
    "vegan",
    "gluten_free",
    "lactose_free",
    "price_eur",
    "label_elemental_mg_per_serving",
    "nutrients",
)
PRODUCT_COLUMNS = (*PRODUCT_REQUIRED, *PRODUCT_OPTIONAL)
ALL_COLUMNS = (*PRODUCT_COLUMNS, *LINE_COLUMNS)

BOOLEAN_COLUMNS = ("vegan", "gluten_free", "lactose_free")
TRUE_WORDS = frozenset({"true", "yes", "ja", "waar", "1", "y", "j"})
FALSE_WORDS = frozenset({"false", "no", "nee", "onwaar", "0", "n", ""})
BOOLEAN_HINT = _("Write true or false (yes/no, ja/nee and 1/0 work too).")

# nutrients: "vitamin-b6:1.4;zinc:5", the nutrient slug and its amount per serving in the
# nutrient's own unit.
NUTRIENT_SEPARATOR = ";"
NUTRIENT_AMOUNT_SEPARATOR = ":"


def parse_boolean(text: str) -> bool | None:
    """True or False, or None when the text is no yes/no word."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def format_boolean(value: bool) -> str:
    return "true" if value else "false"


def format_decimal(value: Decimal | None) -> str:
    """A plain number without trailing zeros or exponent: 250.000 -> 250, 1.50 -> 1.5."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_nutrients(lines) -> str:
    """``lines`` as (slug, amount) pairs."""
    return NUTRIENT_SEPARATOR.join(
        f"{slug}{NUTRIENT_AMOUNT_SEPARATOR}{format_decimal(amount)}" for slug, amount in lines
    )


# Spreadsheet formula injection (OWASP, "CSV Injection"): a CSV cell that starts with one of
# these is run as a formula when the file is opened (=HYPERLINK(...), @SUM(...), +1+cmd|...).
# Such a cell is written with a leading apostrophe, which spreadsheet programs read as "this
# is text". Leading apostrophes are counted in, so the escape can always be undone exactly;
# numbers (-5, +1.5, -1e3) are left as they are: as formulas they are only themselves.
FORMULA_START = re.compile("^'*[=+\\-@\t\r]")
ESCAPED_FORMULA_START = re.compile("^'+[=+\\-@\t\r]")
PLAIN_NUMBER = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


def neutralise_formula(text: str) -> str:
    """A CSV cell that no spreadsheet program runs as a formula."""
    if FORMULA_START.match(text) and not PLAIN_NUMBER.match(text):
        return f"'{text}"
    return text


def restore_formula(text: str) -> str:
    """The inverse of ``neutralise_formula``, for cells read from a CSV file."""
    return text[1:] if ESCAPED_FORMULA_START.match(text) else text
