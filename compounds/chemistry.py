"""Chemical formulas: parsing, molar mass and the share of magnesium.

Pure functions on ``Decimal``; no ORM, no settings. This module is the one home of the
molar-mass and elemental-magnesium arithmetic: models, the API and the calculator all call it.

A formula is one or more parts joined by a hydrate dot (``·``, ``.``, ``•`` or ``*``). Each part
may start with a multiplier and holds elements with counts, nested in ``( )`` or ``[ ]``::

    MgO    Mg(OH)2    MgCl2·6H2O    Mg3(C6H5O7)2·9H2O    4MgCO3·Mg(OH)2·5H2O
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

# Standard atomic weights (IUPAC, abridged conventional values), g/mol. The values the
# reference data was computed with (Mg 24.305, H 1.008, C 12.011, N 14.007, O 15.999,
# P 30.974, S 32.06, Cl 35.45) are these same numbers.
ATOMIC_WEIGHTS_G_MOL: dict[str, Decimal] = {
    symbol: Decimal(weight)
    for symbol, weight in {
        "H": "1.008",
        "He": "4.0026",
        "Li": "6.94",
        "Be": "9.0122",
        "B": "10.81",
        "C": "12.011",
        "N": "14.007",
        "O": "15.999",
        "F": "18.998",
        "Ne": "20.180",
        "Na": "22.990",
        "Mg": "24.305",
        "Al": "26.982",
        "Si": "28.085",
        "P": "30.974",
        "S": "32.06",
        "Cl": "35.45",
        "Ar": "39.95",
        "K": "39.098",
        "Ca": "40.078",
        "Sc": "44.956",
        "Ti": "47.867",
        "V": "50.942",
        "Cr": "51.996",
        "Mn": "54.938",
        "Fe": "55.845",
        "Co": "58.933",
        "Ni": "58.693",
        "Cu": "63.546",
        "Zn": "65.38",
        "Ga": "69.723",
        "Ge": "72.630",
        "As": "74.922",
        "Se": "78.971",
        "Br": "79.904",
        "Kr": "83.798",
        "Rb": "85.468",
        "Sr": "87.62",
        "Y": "88.906",
        "Zr": "91.224",
        "Nb": "92.906",
        "Mo": "95.95",
        "Ru": "101.07",
        "Rh": "102.91",
        "Pd": "106.42",
        "Ag": "107.87",
        "Cd": "112.41",
        "In": "114.82",
        "Sn": "118.71",
        "Sb": "121.76",
        "Te": "127.60",
        "I": "126.90",
        "Xe": "131.29",
        "Cs": "132.91",
        "Ba": "137.33",
        "La": "138.91",
        "Ce": "140.12",
        "W": "183.84",
        "Pt": "195.08",
        "Au": "196.97",
        "Hg": "200.59",
        "Tl": "204.38",
        "Pb": "207.2",
        "Bi": "208.98",
    }.items()
}

MAGNESIUM = "Mg"
HYDRATE_DOTS = "·.•*"
OPENING = {"(": ")", "[": "]"}
MAX_FORMULA_LENGTH = 200
# Not str.isdigit(): that also accepts '²' and other digits int() cannot read.
ASCII_DIGITS = frozenset("0123456789")
# A count or multiplier of more than three digits is a typing error, not a salt.
MAX_COUNT_DIGITS = 3
# Nested brackets multiply their counts: ((Mg)999)999 already holds a million atoms, and eight
# levels give a molar mass beyond the 28 digits Decimal arithmetic keeps, so rounding it failed
# with InvalidOperation (a 500). The largest salt of the reference table has under 100 atoms.
MAX_ATOMS = 10_000

HYDRATE_NAMES = {
    0: "anhydrous",
    1: "monohydrate",
    2: "dihydrate",
    3: "trihydrate",
    4: "tetrahydrate",
    5: "pentahydrate",
    6: "hexahydrate",
    7: "heptahydrate",
    8: "octahydrate",
    9: "nonahydrate",
    10: "decahydrate",
    12: "dodecahydrate",
}


class FormulaError(ValueError):
    """A formula that cannot be used, with a message that says what is wrong and where."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedFormula:
    formula: str
    atom_counts: dict[str, int]
    water_of_hydration: int
    molar_mass_g_mol: Decimal

    @property
    def magnesium_atoms(self) -> int:
        return self.atom_counts.get(MAGNESIUM, 0)

    @property
    def elemental_magnesium_fraction(self) -> Decimal:
        """Mass of magnesium per mass of compound (0..1)."""
        return self.magnesium_atoms * ATOMIC_WEIGHTS_G_MOL[MAGNESIUM] / self.molar_mass_g_mol

    @property
    def elemental_magnesium_percent(self) -> Decimal:
        return self.elemental_magnesium_fraction * 100

    @property
    def hydrate(self) -> str:
        return hydrate_name(self.water_of_hydration)


def hydrate_name(water_molecules: int) -> str:
    return HYDRATE_NAMES.get(water_molecules, f"{water_molecules}-hydrate")


def molar_mass_g_mol(atom_counts: dict[str, int]) -> Decimal:
    return sum(
        (ATOMIC_WEIGHTS_G_MOL[symbol] * count for symbol, count in atom_counts.items()),
        Decimal(0),
    )


def parse_formula(text: str, *, require_magnesium: bool = True) -> ParsedFormula:
    """Parse ``text`` into atom counts and derived masses, or raise ``FormulaError``."""
    formula = text.strip() if isinstance(text, str) else ""
    if not formula:
        raise FormulaError("empty", "The formula is empty.")
    if len(formula) > MAX_FORMULA_LENGTH:
        raise FormulaError(
            "too_long",
            f"The formula is {len(formula)} characters long; at most {MAX_FORMULA_LENGTH} "
            "are allowed.",
        )
    atoms: Counter[str] = Counter()
    water = 0
    for index, (start, part) in enumerate(_split_parts(formula)):
        multiplier, part_atoms = _Parser(part, offset=start).parse_part()
        if index > 0 and part_atoms == {"H": 2, "O": 1}:
            water += multiplier
        for symbol, count in part_atoms.items():
            atoms[symbol] += multiplier * count
    if sum(atoms.values()) > MAX_ATOMS:
        raise FormulaError(
            "too_many_atoms",
            f"The formula {formula!r} holds more than {MAX_ATOMS} atoms; check the counts.",
        )
    if require_magnesium and not atoms[MAGNESIUM]:
        raise FormulaError("no_magnesium", f"The formula {formula!r} contains no magnesium (Mg).")
    counts = dict(atoms)
    return ParsedFormula(
        formula=formula,
        atom_counts=counts,
        water_of_hydration=water,
        molar_mass_g_mol=molar_mass_g_mol(counts),
    )


def elemental_magnesium_mg(compound_mg: Decimal, elemental_fraction: Decimal) -> Decimal:
    """Milligrams of magnesium in ``compound_mg`` milligrams of a compound."""
    return compound_mg * elemental_fraction


def compound_mg_for_elemental(elemental_mg: Decimal, elemental_fraction: Decimal) -> Decimal:
    """Milligrams of compound that deliver ``elemental_mg`` milligrams of magnesium."""
    return elemental_mg / elemental_fraction


def _split_parts(formula: str) -> list[tuple[int, str]]:
    parts, start = [], 0
    for position, char in enumerate(formula + HYDRATE_DOTS[0]):
        if char in HYDRATE_DOTS:
            if position == start:
                raise FormulaError(
                    "empty_part",
                    f"Empty part at position {position + 1}: a hydrate dot must stand between "
                    "two parts, as in MgCl2·6H2O.",
                )
            parts.append((start, formula[start:position]))
            start = position + 1
    return parts


class _Parser:
    """Recursive descent over one part of a formula; positions in errors are 1-based."""

    def __init__(self, text: str, *, offset: int):
        self.text = text
        self.offset = offset
        self.pos = 0

    def parse_part(self) -> tuple[int, Counter[str]]:
        multiplier = self._number() or 1
        atoms = self._groups(closing=None)
        if not atoms:
            self._fail("missing_element", "a multiplier must be followed by elements")
        return multiplier, atoms

    def _groups(self, closing: str | None) -> Counter[str]:
        atoms: Counter[str] = Counter()
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == closing:
                return atoms
            if char in OPENING:
                opened_at = self.pos
                self.pos += 1
                inner = self._groups(closing=OPENING[char])
                if self.pos >= len(self.text):
                    self.pos = opened_at
                    self._fail("unbalanced", f"'{char}' is never closed")
                if not inner:
                    self.pos = opened_at
                    self._fail("empty_group", f"'{char}{OPENING[char]}' holds no elements")
                self.pos += 1
                count = self._number() or 1
                for symbol, inner_count in inner.items():
                    atoms[symbol] += inner_count * count
            elif char in ")]":
                self._fail("unbalanced", f"'{char}' closes nothing")
            elif char.isupper():
                symbol = self._element()
                atoms[symbol] += self._number() or 1
            elif char in ASCII_DIGITS:
                self._fail(
                    "misplaced_number",
                    "a number may only follow an element or a bracket, or lead a hydrate part",
                )
            elif char.islower():
                self._fail(
                    "lowercase_element",
                    f"element symbols start with a capital letter (found '{char}')",
                )
            else:
                self._fail("unexpected_character", f"unexpected character {char!r}")
        return atoms

    def _element(self) -> str:
        start = self.pos
        self.pos += 1
        if self.pos < len(self.text) and self.text[self.pos].islower():
            self.pos += 1
        symbol = self.text[start : self.pos]
        if symbol not in ATOMIC_WEIGHTS_G_MOL:
            self.pos = start
            self._fail("unknown_element", f"'{symbol}' is not a known element")
        return symbol

    def _number(self) -> int | None:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in ASCII_DIGITS:
            self.pos += 1
        if self.pos == start:
            return None
        digits = self.text[start : self.pos]
        if len(digits) > MAX_COUNT_DIGITS:
            self.pos = start
            self._fail("count_too_large", f"the count {digits} has more than 3 digits")
        if int(digits) == 0:
            self.pos = start
            self._fail("zero_count", "a count of 0 is not allowed")
        return int(digits)

    def _fail(self, code: str, problem: str):
        raise FormulaError(code, f"Position {self.offset + self.pos + 1}: {problem}.")
