"""One rounding home (formulary.common.numbers): half up, once, at output, everywhere."""

from decimal import Decimal

import pytest
from django.utils import translation

from compounds.models import CompoundForm
from formulary.common.numbers import decimal_display, decimal_text, half_up, mg_display, rounded
from products.models import Brand
from products.services import IngredientInput, product_upsert
from tests.test_admin import change_url, new_gtin

HALF_WAY_GTIN = new_gtin(700)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("56.25"), 1, Decimal("56.3")),
        (Decimal("56.35"), 1, Decimal("56.4")),
        (Decimal("0.125"), 2, Decimal("0.13")),
        (Decimal("-2.5"), 0, Decimal("-3")),
        (0.125, 2, Decimal("0.13")),
        (56.25, 1, Decimal("56.3")),
        (7, 1, Decimal("7.0")),
    ],
)
def test_half_up_rounds_a_half_away_from_zero(value, places, expected):
    assert half_up(value, places) == expected


@pytest.mark.parametrize("places", range(9))
def test_rounded_gives_half_ups_number_for_decimals_floats_and_ints(places):
    halves = [Decimal(f"{whole}.{'4' * places}5") for whole in (0, 7, 56, 1234)]
    values = [*halves, *(-value for value in halves), Decimal("0.125"), Decimal("2.5E+3")]
    for value in [*values, *(float(value) for value in values), 3, -3]:
        assert rounded(value, places) == float(half_up(value, places)), (value, places)
    assert rounded(Decimal("0.05"), 1) == 0.1


def test_the_formatters_agree_on_a_half_in_both_languages():
    with translation.override("en"):
        assert (rounded(Decimal("56.25"), 1), decimal_text(Decimal("56.25"))) == (56.3, "56.3")
        assert (decimal_display(Decimal("56.25")), mg_display(Decimal("56.25"))) == (
            "56.3",
            "56.3 mg",
        )
    with translation.override("nl"):
        assert (decimal_text(Decimal("56.25")), mg_display(Decimal("56.25"))) == ("56,3", "56,3 mg")
    assert rounded(None, 1) is None


@pytest.fixture
def half_way_product(db):
    """56.25 mg elemental magnesium per serving, one serving a day."""
    line = IngredientInput(
        CompoundForm.objects.get(slug="magnesium-oxide"), Decimal("56.25"), "elemental"
    )
    product, _ = product_upsert(
        gtin=HALF_WAY_GTIN,
        fields={
            "brand": Brand.objects.get(slug="noctura"),
            "name": "Halverwege",
            "dosage_form": "capsule",
            "units_per_package": 30,
            "units_per_serving": Decimal(1),
            "servings_per_day": Decimal(1),
            "status": "published",
        },
        ingredients=[line],
        nutrients=[],
    )
    return product


def test_a_half_way_amount_reads_the_same_in_the_api_and_the_admin(
    client, admin_client, half_way_product
):
    api = client.get(f"/api/v1/products/{HALF_WAY_GTIN}/?lang=en").json()
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = admin_client.get(change_url(half_way_product)).content.decode()
    listing = admin_client.get("/admin/products/product/?q=Halverwege").content.decode()

    assert (api["elemental_mg_per_serving"], api["elemental_mg_per_day"]) == (56.3, 56.3)
    assert api["ingredients"][0]["elemental_mg"] == 56.3
    assert "Within: 56.3 mg a day, adult limit 250 mg." in page
    assert "56.3 mg" in listing


def test_a_half_way_amount_reads_the_same_in_the_match_reasons(client, half_way_product):
    response = client.get("/api/v1/products/match/?indication=constipation&lang=en")
    results = {r["gtin"]: r for r in response.json()["results"]}

    assert results[HALF_WAY_GTIN]["elemental_mg_per_day"] == 56.3
    assert any("56.3 mg" in reason for reason in results[HALF_WAY_GTIN]["reasons"])
