import csv
from decimal import Decimal

import pytest

from compounds.chemistry import FormulaError, parse_formula
from formulary.common.loading import FIXTURES_DIR

with (FIXTURES_DIR / "compounds.csv").open(encoding="utf-8") as handle:
    CSV_ROWS = list(csv.DictReader(handle))


@pytest.mark.parametrize("row", CSV_ROWS, ids=[row["slug"] for row in CSV_ROWS])
def test_parse_formula_every_reference_compound_matches_published_values(row):
    formula = row["formula"].partition(" ")[0]

    parsed = parse_formula(formula)

    assert abs(parsed.molar_mass_g_mol - Decimal(row["molar_mass_g_mol"])) <= Decimal("0.02")
    assert abs(
        parsed.elemental_magnesium_percent - Decimal(row["elemental_mg_percent"])
    ) <= Decimal("0.02")


def test_parse_formula_hexahydrate_halves_the_magnesium_share_of_the_chloride():
    anhydrous = parse_formula("MgCl2")
    hexahydrate = parse_formula("MgCl2·6H2O")

    assert round(anhydrous.elemental_magnesium_percent, 1) == Decimal("25.5")
    assert round(hexahydrate.elemental_magnesium_percent, 1) == Decimal("12.0")
    assert hexahydrate.hydrate == "hexahydrate"
    assert hexahydrate.water_of_hydration == 6
    assert anhydrous.hydrate == "anhydrous"


def test_parse_formula_multiplier_parentheses_and_hydrate_count_every_atom():
    parsed = parse_formula("4MgCO3·Mg(OH)2·5H2O")

    assert parsed.atom_counts == {"Mg": 5, "C": 4, "O": 19, "H": 12}
    assert parsed.magnesium_atoms == 5
    assert parsed.water_of_hydration == 5
    assert parsed.hydrate == "pentahydrate"


def test_parse_formula_nested_brackets_multiply_through():
    assert parse_formula("Mg[Fe(CN)6]2").atom_counts == {"Mg": 1, "Fe": 2, "C": 12, "N": 12}


@pytest.mark.parametrize("dot", ["·", ".", "*", "•", "∙", "⋅", " · ", " ."])
def test_parse_formula_accepts_each_hydrate_dot_with_or_without_spaces(dot):
    parsed = parse_formula(f"MgSO4{dot}7H2O")

    assert (parsed.formula, parsed.water_of_hydration) == ("MgSO4·7H2O", 7)


def test_parse_formula_fractional_hydrate_is_the_ph_eur_4_5_hydrate():
    parsed = parse_formula("MgCl2·4.5H2O")

    assert (parsed.water_of_hydration, parsed.hydrate) == (Decimal("4.5"), "4.5-hydrate")
    assert parsed.atom_counts == {"Mg": 1, "Cl": 2, "H": 9, "O": Decimal("4.5")}
    assert (
        parsed.molar_mass_g_mol
        == parse_formula("MgCl2").molar_mass_g_mol
        + Decimal("4.5") * parse_formula("H2O", require_magnesium=False).molar_mass_g_mol
    )
    # A '.' after a salt is the hydrate dot, after a part's leading digits a decimal point.
    assert parse_formula("MgCl2.4.5H2O").formula == "MgCl2·4.5H2O"
    assert parse_formula("MgSO4·0.5H2O").hydrate == "hemihydrate"


@pytest.mark.parametrize(
    "formula", ["MgCl2·6H2O", "6H2O·MgCl2", "[Mg(H2O)6]Cl2", "MgCl₂·6H₂O", "Mg(Cl)2 ∙ 6H2O"]
)
def test_parse_formula_water_is_water_wherever_it_is_written(formula):
    parsed = parse_formula(formula)

    assert (parsed.water_of_hydration, parsed.hydrate) == (6, "hexahydrate")
    assert parsed.molar_mass_g_mol == parse_formula("MgCl2·6H2O").molar_mass_g_mol


def test_parse_formula_molar_mass_is_the_sum_of_standard_atomic_weights():
    assert parse_formula("MgO").molar_mass_g_mol == Decimal("24.305") + Decimal("15.999")


@pytest.mark.parametrize(
    ("formula", "code", "message"),
    [
        ("", "empty", "The formula is empty."),
        ("   ", "empty", "The formula is empty."),
        (
            "mgO",
            "lowercase_element",
            "Position 1: element symbols start with a capital letter (found 'm').",
        ),
        ("MgXx2", "unknown_element", "Position 3: 'Xx' is not a known element."),
        ("Mg(OH2", "unbalanced", "Position 3: '(' is never closed."),
        ("MgOH)2", "unbalanced", "Position 5: ')' closes nothing."),
        ("Mg(OH]2", "unbalanced", "Position 6: ']' closes nothing."),
        ("Mg()", "empty_group", "Position 3: '()' holds no elements."),
        ("Mg0", "zero_count", "Position 3: a count of 0 is not allowed."),
        ("Mg1234", "count_too_large", "Position 3: the count 1234 has more than 3 digits."),
        ("Mg 2", "unexpected_character", "Position 3: unexpected character ' '."),
        (
            "MgCl2··6H2O",
            "empty_part",
            "Empty part at position 7: a hydrate dot must stand between two parts, "
            "as in MgCl2·6H2O.",
        ),
        (
            "·MgO",
            "empty_part",
            "Empty part at position 1: a hydrate dot must stand between two parts, "
            "as in MgCl2·6H2O.",
        ),
        ("6·MgO", "missing_element", "Position 2: a multiplier must be followed by elements."),
        ("NaCl", "no_magnesium", "The formula 'NaCl' contains no magnesium (Mg)."),
        ("Mg" * 101, "too_long", "The formula is 202 characters long; at most 200 are allowed."),
    ],
)
def test_parse_formula_malformed_input_is_rejected_with_what_is_wrong(formula, code, message):
    with pytest.raises(FormulaError) as raised:
        parse_formula(formula)

    assert (raised.value.code, raised.value.message) == (code, message)


def test_parse_formula_without_magnesium_is_allowed_when_not_required():
    assert parse_formula("NaCl", require_magnesium=False).magnesium_atoms == 0
