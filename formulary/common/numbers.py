"""Numbers as the formulary shows them: rounded half up, once, at output.

Every figure a person or a client sees goes through ``half_up``: the API's JSON numbers
(``rounded``), the sentences of match reasons and advice (``decimal_text``) and the admin's
columns (``decimal_display``). Python's ``round()`` rounds half to even (56.25 -> 56.2) and
``number_format`` cuts digits off; people and labels round half up (56.25 -> 56.3), so neither
is used for output anywhere else. Stored and computed values keep their full precision.
"""

from decimal import ROUND_HALF_UP, Decimal

from formulary.common.localization import current_language

# Elemental magnesium (per unit, serving and day) is shown to a tenth of a milligram
# everywhere: in the API's amounts, in the admin and in the reasons of a match.
MG_PLACES = 1


def half_up(value, places: int) -> Decimal:
    """``value`` (Decimal, int or float) rounded half up to ``places`` decimals.

    A float goes through its shortest text (``repr``), so 0.125 is rounded as written.
    """
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    quantum = QUANTA.get(places) or Decimal(1).scaleb(-places)
    return number.quantize(quantum, rounding=ROUND_HALF_UP)


# A page of products rounds a few hundred numbers: their quanta made once.
QUANTA = {places: Decimal(1).scaleb(-places) for places in range(7)}


def rounded(value, places: int) -> float | None:
    """A JSON number: ``value`` rounded half up, or None."""
    if value is None:
        return None
    if value.__class__ is Decimal and places in QUANTA:
        # half_up's rounding, inlined for a Decimal: a page of matches rounds 500 numbers.
        return float(value.quantize(QUANTA[places], rounding=ROUND_HALF_UP))
    return float(half_up(value, places))


def decimal_text(value, places: int = 1) -> str:
    """A number as people write it in a sentence: no trailing zeros, a decimal comma in Dutch."""
    text = f"{half_up(value, places):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if current_language() == "nl" else text


def decimal_display(value, places: int = 1) -> str:
    """A number in a table column: as in a sentence, without trailing zeros (250.0 -> 250,
    62.50 -> 62,5 in Dutch), as the admin's number inputs show stored values."""
    return decimal_text(value, places)


def mg_display(value, places: int = MG_PLACES) -> str:
    """An amount of magnesium in a table column, e.g. "56,3 mg"."""
    return f"{decimal_display(value, places)} mg"
