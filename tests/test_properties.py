"""Properties of the formula parser and the elemental arithmetic, checked by Hypothesis.

Derandomized and bounded, so CI runs the same examples every time in a few seconds.
"""

import csv
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compounds.chemistry import (
    ATOMIC_WEIGHTS_G_MOL,
    HYDRATE_DOTS,
    MAX_FORMULA_LENGTH,
    FormulaError,
    elemental_magnesium_mg,
    parse_formula,
)
from compounds.models import CompoundForm
from formulary.models import Nutrient
from products.enums import AmountBasis, DosageForm, ProductStatus
from products.gtin import gs1_check_digit
from products.models import Brand, Product
from products.spreadsheet.columns import (
    ALL_COLUMNS,
    BOOLEAN_COLUMNS,
    format_boolean,
    format_decimal,
)
from products.spreadsheet.exporting import export_rows
from products.spreadsheet.importing import import_products

bounded = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ELEMENTS = sorted(ATOMIC_WEIGHTS_G_MOL)
FORMULA_CHARACTERS = "MgCaNaClOHSP()[]·.•*0123456789 xyzé\x00"


def count(n: int) -> str:
    return "" if n == 1 else str(n)


@st.composite
def groups(draw, max_depth=2):
    """Elements with counts, sometimes a bracketed group with a count of its own."""
    pieces = draw(
        st.lists(st.tuples(st.sampled_from(ELEMENTS), st.integers(1, 12)), min_size=1, max_size=4)
    )
    text = "".join(f"{symbol}{count(n)}" for symbol, n in pieces)
    if max_depth and draw(st.booleans()):
        opening, closing = draw(st.sampled_from(["()", "[]"]))
        inner = draw(groups(max_depth=max_depth - 1))
        text += f"{opening}{inner}{closing}{count(draw(st.integers(1, 6)))}"
    return text


@st.composite
def magnesium_parts(draw):
    """A part that holds magnesium, as a salt does."""
    return f"Mg{count(draw(st.integers(1, 4)))}" + draw(groups())


def mass(text: str) -> Decimal:
    return parse_formula(text, require_magnesium=False).molar_mass_g_mol


@bounded
@given(st.text(max_size=250))
def test_parser_on_any_text_returns_a_formula_or_raises_formula_error(text):
    try:
        parsed = parse_formula(text)
    except FormulaError as error:
        assert error.code and error.message
    else:
        assert parsed.magnesium_atoms >= 1


@bounded
@given(st.text(alphabet=FORMULA_CHARACTERS, max_size=80))
def test_parser_on_formula_like_text_returns_a_formula_or_raises_formula_error(text):
    try:
        parsed = parse_formula(text)
    except FormulaError as error:
        assert error.message.startswith(("Position", "The formula", "Empty part"))
    else:
        assert 0 < parsed.elemental_magnesium_fraction <= 1


@bounded
@given(magnesium_parts(), st.lists(groups(), min_size=1, max_size=3), st.sampled_from(HYDRATE_DOTS))
def test_molar_mass_is_additive_over_hydrate_parts(salt, others, dot):
    formula = dot.join([salt, *others])

    assert mass(formula) == mass(salt) + sum(mass(part) for part in others)


@bounded
@given(magnesium_parts(), st.integers(1, 12))
def test_water_of_hydration_adds_its_mass_and_names_the_hydrate(salt, waters):
    parsed = parse_formula(f"{salt}·{count(waters)}H2O")

    assert parsed.water_of_hydration == waters
    assert parsed.molar_mass_g_mol == mass(salt) + waters * mass("H2O")


@bounded
@given(groups(), st.integers(2, 9))
def test_bracket_count_multiplies_the_group_mass(group, multiplier):
    assert mass(f"Mg({group}){multiplier}") == mass("Mg") + multiplier * mass(group)
    assert mass(f"{multiplier}Mg{group}") == multiplier * mass(f"Mg{group}")


@bounded
@given(magnesium_parts(), st.sampled_from(HYDRATE_DOTS), st.sampled_from(HYDRATE_DOTS))
def test_hydrate_dot_style_does_not_change_the_result(salt, dot, other_dot):
    first = parse_formula(f"{salt}{dot}3H2O")
    second = parse_formula(f"{salt}{other_dot}3H2O")

    assert (first.atom_counts, first.molar_mass_g_mol) == (
        second.atom_counts,
        second.molar_mass_g_mol,
    )


@bounded
@given(magnesium_parts(), st.decimals(min_value=0, max_value=10_000_000, places=3))
def test_elemental_mg_never_exceeds_the_compound_mass(salt, compound_mg):
    fraction = parse_formula(salt).elemental_magnesium_fraction

    elemental = elemental_magnesium_mg(compound_mg, fraction)

    assert 0 <= elemental <= compound_mg
    assert 0 < fraction <= 1


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(st.text(max_size=MAX_FORMULA_LENGTH + 20), st.text(max_size=12))
def test_calculator_endpoint_never_answers_5xx(formula, amount):
    response = Client().get(
        "/api/v1/calculate/elemental/", {"formula": formula, "amount_mg": amount}
    )

    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert response.json()["elemental_magnesium_percent"] <= 100


# ---- spreadsheet import then export is the identity -------------------------------------


def plain_decimal(places: int, low: str, high: str):
    """Decimals as the export writes them: at most ``places`` decimals, no trailing zeros."""
    return st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    ).map(format_decimal)


def optional(strategy):
    return st.one_of(st.just(""), strategy)


# Text a label may carry: letters beyond ASCII, digits, and the CSV separators and quotes.
LABEL_TEXT = st.text(
    alphabet=st.sampled_from("abcXYZ éëüßø0123456789-&'\",;:/()+%"), min_size=1, max_size=60
).filter(lambda text: text == text.strip())


@st.composite
def exported_product(draw, serial, compounds, nutrients, brands):
    """The export's rows (one per ingredient line) of one product with 1 to 3 lines."""
    product = {
        "gtin": f"20997{serial:07d}{gs1_check_digit(f'20997{serial:07d}')}",
        "brand": draw(st.sampled_from(brands)),
        "name": draw(LABEL_TEXT),
        "dosage_form": draw(st.sampled_from(DosageForm.values)),
        "units_per_package": str(draw(st.integers(1, 100_000))),
        "units_per_serving": draw(plain_decimal(3, "0.001", "9999.999")),
        "servings_per_day": draw(plain_decimal(2, "0.01", "999.99")),
        "status": draw(st.sampled_from(ProductStatus.values)),
        "price_eur": draw(optional(plain_decimal(2, "0", "999999.99"))),
        "label_elemental_mg_per_serving": draw(optional(plain_decimal(3, "0", "999999.999"))),
        "nutrients": ";".join(
            f"{slug}:{draw(plain_decimal(3, '0.001', '999999.999'))}"
            for slug in draw(st.lists(st.sampled_from(nutrients), max_size=2, unique=True))
        ),
        **{column: format_boolean(draw(st.booleans())) for column in BOOLEAN_COLUMNS},
    }
    lines = draw(st.lists(st.sampled_from(compounds), min_size=1, max_size=3, unique=True))
    return [
        [
            {
                **product,
                "compound": slug,
                "amount_mg": draw(plain_decimal(3, "0.001", "999999.999")),
                "amount_basis": draw(st.sampled_from(AmountBasis.values)),
            }[column]
            for column in ALL_COLUMNS
        ]
        for slug in lines
    ]


@pytest.mark.django_db
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_spreadsheet_import_then_export_is_the_identity(data):
    compounds = list(CompoundForm.objects.order_by("slug").values_list("slug", flat=True))
    nutrients = list(Nutrient.objects.order_by("slug").values_list("slug", flat=True))
    # Brands by name as the export writes them: existing ones and one that is new.
    brands = [*Brand.objects.order_by("name").values_list("name", flat=True)[:3], "Nieuw Merk"]
    count = data.draw(st.integers(1, 3))
    rows = [
        row
        for serial in range(count)
        for row in data.draw(exported_product(serial, compounds, nutrients, brands))
    ]

    with transaction.atomic(), tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "products.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows([list(ALL_COLUMNS), *rows])
        report = import_products(path)
        exported = list(export_rows(Product.objects.filter(gtin__in={r[0] for r in rows})))
        transaction.set_rollback(True)  # each example starts from the same catalogue

    assert report.ok, report.problems
    assert exported == [list(ALL_COLUMNS), *rows]
