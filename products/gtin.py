"""GS1 GTIN validation (GTIN-8, -12, -13 and -14), and the one written form of each GTIN.

GS1 compares GTINs in their 14-digit form, left-padded with zeros: ``02073300015485`` and
``2073300015485`` are one trade item. Each GTIN is therefore written one way only, its
shortest standard length (``canonical_gtin``); a longer form with leading zeros is refused
with the form to write, so one product cannot be entered twice under two barcodes.
"""

GTIN_LENGTHS = (8, 12, 13, 14)


class GtinError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def gs1_check_digit(data_digits: str) -> int:
    """The GS1 check digit: weights 3, 1, 3, ... from the rightmost data digit leftwards."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data_digits)))
    return (10 - total % 10) % 10


def canonical_gtin(digits: str) -> str:
    """The shortest of the standard lengths that holds every significant digit."""
    significant = digits.lstrip("0")
    length = next(n for n in GTIN_LENGTHS if n >= len(significant))
    return digits[-length:] if len(digits) >= length else digits.zfill(length)


def validate_gtin(value: str) -> str:
    """Return ``value`` if it is a well-formed GTIN, else raise ``GtinError``."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise GtinError("gtin_not_digits", "A GTIN consists of digits only.")
    if len(value) not in GTIN_LENGTHS:
        raise GtinError(
            "gtin_length",
            f"A GTIN has 8, 12, 13 or 14 digits; this one has {len(value)}.",
        )
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise GtinError(
            "gtin_check_digit",
            f"The check digit of GTIN {value} is wrong: the last digit should be {expected}. "
            "Check the barcode for a typing error.",
        )
    canonical = canonical_gtin(value)
    if canonical != value:
        raise GtinError(
            "gtin_not_canonical",
            f"GTIN {value} is GTIN {canonical} with leading zeros: write it as {canonical}.",
        )
    return value
