import pytest

from products.gtin import GtinError, canonical_gtin, gs1_check_digit, validate_gtin


@pytest.mark.parametrize(
    "gtin",
    ["4006381333931", "96385074", "036000291452", "10012345678902", "2012345000018"],
)
def test_validate_gtin_accepts_valid_check_digits(gtin):
    assert validate_gtin(gtin) == gtin


def test_gs1_check_digit_weights_three_from_the_right():
    assert gs1_check_digit("400638133393") == 1


@pytest.mark.parametrize(
    ("gtin", "code", "message"),
    [
        (
            "4006381333932",
            "gtin_check_digit",
            "The check digit of GTIN 4006381333932 is wrong: the last digit should be 1. "
            "Check the barcode for a typing error.",
        ),
        ("40063813339", "gtin_length", "A GTIN has 8, 12, 13 or 14 digits; this one has 11."),
        ("40063813339a", "gtin_not_digits", "A GTIN consists of digits only."),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "gtin_not_digits", "A GTIN consists of digits only."),
        ("", "gtin_not_digits", "A GTIN consists of digits only."),
        (
            "02073300015485",
            "gtin_not_canonical",
            "GTIN 02073300015485 is GTIN 2073300015485 with leading zeros: write it as "
            "2073300015485.",
        ),
        (
            "00000096385074",
            "gtin_not_canonical",
            "GTIN 00000096385074 is GTIN 96385074 with leading zeros: write it as 96385074.",
        ),
    ],
)
def test_validate_gtin_rejects_malformed_input_with_a_reason(gtin, code, message):
    with pytest.raises(GtinError) as raised:
        validate_gtin(gtin)

    assert (raised.value.code, raised.value.message) == (code, message)


@pytest.mark.parametrize(
    ("gtin", "canonical"),
    [
        ("02073300015485", "2073300015485"),
        ("0036000291452", "036000291452"),
        ("00000036000291452"[-14:], "036000291452"),
        ("0000096385074", "96385074"),
        ("96385074", "96385074"),
        ("036000291452", "036000291452"),
        ("10012345678902", "10012345678902"),
    ],
)
def test_canonical_gtin_is_the_shortest_standard_length_holding_the_digits(gtin, canonical):
    assert canonical_gtin(gtin) == canonical
