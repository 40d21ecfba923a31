from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from compounds.models import CompoundForm
from formulary.models import Nutrient
from products.enums import AmountBasis, ProductStatus
from products.models import Brand, Product
from products.selectors import product_dose, products_with_lines
from products.services import IngredientInput, NutrientInput, product_upsert

pytestmark = pytest.mark.django_db

# Hand-computed molar masses (g/mol) from the standard atomic weights
# Mg 24.305, H 1.008, C 12.011, N 14.007, O 15.999, Cl 35.45.
BISGLYCINATE_G_MOL = Decimal("24.305") + 2 * (
    2 * Decimal("12.011") + 4 * Decimal("1.008") + Decimal("14.007") + 2 * Decimal("15.999")
)
CHLORIDE_HEXAHYDRATE_G_MOL = (
    Decimal("24.305") + 2 * Decimal("35.45") + 6 * (2 * Decimal("1.008") + Decimal("15.999"))
)
MG = Decimal("24.305")
CENT = Decimal("0.01")


def make_product(
    gtin, lines, *, units_per_serving="2", servings_per_day="1", label=None, nutrients=()
):
    compounds = {c.slug: c for c in CompoundForm.objects.all()}
    product, _ = product_upsert(
        gtin=gtin,
        fields={
            "brand": Brand.objects.get_or_create(slug="testmerk", name="Testmerk")[0],
            "name": "Testproduct",
            "dosage_form": "capsule",
            "units_per_package": 60,
            "units_per_serving": Decimal(units_per_serving),
            "servings_per_day": Decimal(servings_per_day),
            "status": ProductStatus.PUBLISHED,
            "label_elemental_mg_per_serving": label,
        },
        ingredients=[
            IngredientInput(compound=compounds[slug], amount_mg=Decimal(amount), amount_basis=basis)
            for slug, amount, basis in lines
        ],
        nutrients=[
            NutrientInput(nutrient=Nutrient.objects.get(slug=slug), amount=Decimal(amount))
            for slug, amount in nutrients
        ],
    )
    return products_with_lines().get(pk=product.pk)


def test_product_dose_single_compound_basis_matches_hand_computation():
    product = make_product("2000000000015", [("magnesium-bisglycinate", "1418", "compound")])

    dose = product_dose(product)

    per_serving = Decimal("1418") * MG / BISGLYCINATE_G_MOL  # 199.88 mg
    assert dose.elemental_mg_per_serving.quantize(CENT) == per_serving.quantize(CENT)
    assert dose.elemental_mg_per_unit.quantize(CENT) == (per_serving / 2).quantize(CENT)
    assert dose.elemental_mg_per_day.quantize(CENT) == per_serving.quantize(CENT)
    assert dose.nrv_percent_per_day.quantize(CENT) == (per_serving / 375 * 100).quantize(CENT)
    assert dose.exceeds_upper_limit == {"eu": False, "us": False}
    assert dose.label_mismatch is None


def test_product_dose_multi_ingredient_mixed_bases_adds_elemental_amounts():
    product = make_product(
        "2000000000022",
        [
            ("magnesium-bisglycinate", "100", "elemental"),
            ("magnesium-chloride-hexahydrate", "500", "compound"),
        ],
        units_per_serving="1",
        servings_per_day="3",
    )

    dose = product_dose(product)

    per_serving = Decimal("100") + Decimal("500") * MG / CHLORIDE_HEXAHYDRATE_G_MOL  # 159.78
    assert dose.elemental_mg_per_serving.quantize(CENT) == per_serving.quantize(CENT)
    assert dose.elemental_mg_per_day.quantize(CENT) == (3 * per_serving).quantize(CENT)
    assert dose.exceeds_upper_limit == {"eu": True, "us": True}
    assert product.elemental_mg_per_day.quantize(CENT) == (3 * per_serving).quantize(CENT)


def test_product_dose_between_the_limits_exceeds_eu_but_not_us():
    product = make_product(
        "2000000000039",
        [("magnesium-citrate-tri-anhydrous", "150", "elemental")],
        servings_per_day="2",
    )

    assert product_dose(product).exceeds_upper_limit == {"eu": True, "us": False}


@pytest.mark.parametrize(("label", "mismatch"), [("200", False), ("195", False), ("230", True)])
def test_product_dose_flags_a_label_that_disagrees_beyond_tolerance(label, mismatch):
    product = make_product(
        "2000000000046", [("magnesium-bisglycinate", "1418", "compound")], label=Decimal(label)
    )

    assert product_dose(product).label_mismatch is mismatch


def test_product_save_stores_the_computed_daily_amount_for_filtering():
    product = make_product(
        "2000000000053", [("magnesium-oxide", "100", "elemental")], servings_per_day="2"
    )

    assert Product.objects.get(pk=product.pk).elemental_mg_per_day == Decimal("200")


def test_product_save_without_magnesium_lines_is_refused_and_writes_nothing():
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        make_product("2000000000060", [])

    assert raised.value.message_dict == {
        "ingredients": ["A product needs at least one magnesium ingredient line."]
    }
    assert not Product.objects.filter(gtin="2000000000060").exists()


def test_product_save_repeated_compound_is_refused():
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        make_product(
            "2000000000077",
            [("magnesium-oxide", "100", "elemental"), ("magnesium-oxide", "50", "compound")],
        )

    assert raised.value.message_dict == {
        "ingredients": [
            "Each compound may appear once per product; repeated: magnesium-oxide. "
            "Add the amounts up in one line."
        ]
    }


def test_product_save_repeated_compound_is_refused_in_dutch_by_default():
    with pytest.raises(ValidationError) as raised:
        make_product(
            "2000000000077",
            [("magnesium-oxide", "100", "elemental"), ("magnesium-oxide", "50", "compound")],
        )

    assert raised.value.message_dict == {
        "ingredients": [
            "Elke verbinding mag één keer per product voorkomen; herhaald: magnesium-oxide. "
            "Tel de hoeveelheden op in één regel."
        ]
    }


def test_product_save_bad_gtin_names_the_field_and_writes_nothing():
    count = Product.objects.count()
    with pytest.raises(ValidationError) as raised:
        make_product("2000000000016", [("magnesium-oxide", "100", "elemental")])

    assert raised.value.message_dict["gtin"] == [
        "The check digit of GTIN 2000000000016 is wrong: the last digit should be 5. "
        "Check the barcode for a typing error."
    ]
    assert Product.objects.count() == count


def test_product_save_invalid_line_rolls_back_the_whole_product():
    with pytest.raises(ValidationError):
        make_product("2000000000084", [("magnesium-oxide", "-5", "elemental")])

    assert not Product.objects.filter(gtin="2000000000084").exists()


def test_product_upsert_replaces_the_lines_of_an_existing_product():
    make_product(
        "2000000000091", [("magnesium-oxide", "100", "elemental")], nutrients=[("vitamin-b6", "10")]
    )

    product = make_product("2000000000091", [("magnesium-malate", "50", "elemental")])

    assert [line.compound.slug for line in product.ingredients.all()] == ["magnesium-malate"]
    assert list(product.nutrients.all()) == []
    assert product.elemental_mg_per_day == Decimal("50")


def test_compound_formula_change_refreshes_stored_product_amounts():
    product = make_product(
        "2000000000107", [("magnesium-chloride-hexahydrate", "1000", "compound")]
    )
    compound = CompoundForm.objects.get(slug="magnesium-chloride-hexahydrate")

    compound.formula = "MgCl2"
    compound.save()

    product.refresh_from_db()
    expected = Decimal("1000") * MG / (MG + 2 * Decimal("35.45"))  # 255.29 mg
    assert product.elemental_mg_per_day.quantize(CENT) == expected.quantize(CENT)


def test_stored_daily_amount_equals_the_computed_one_for_every_demo_product():
    for product in products_with_lines():
        assert product.elemental_mg_per_day.quantize(CENT) == (
            product_dose(product).elemental_mg_per_day.quantize(CENT)
        ), product.gtin


def test_demo_catalogue_covers_what_the_demo_must_show():
    products = list(products_with_lines())
    doses = {p.gtin: product_dose(p) for p in products}

    assert len(products) >= 40
    assert sum(p.status == ProductStatus.DRAFT for p in products) >= 3
    assert sum(doses[p.gtin].exceeds_upper_limit["eu"] for p in products) >= 3
    assert sum(bool(doses[p.gtin].label_mismatch) for p in products) >= 1
    assert any(len(p.ingredients.all()) > 1 for p in products), "a multi-compound product"
    assert any(n.nutrient.slug == "vitamin-b6" for p in products for n in p.nutrients.all()), (
        "a magnesium + vitamin B6 product"
    )
    assert {p.dosage_form for p in products} == {
        "capsule",
        "tablet",
        "chewable-tablet",
        "effervescent-tablet",
        "powder",
        "liquid",
    }
    assert {line.amount_basis for p in products for line in p.ingredients.all()} == set(
        AmountBasis.values
    )
