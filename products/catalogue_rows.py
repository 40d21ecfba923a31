"""The catalogue's read path: products as JSON from plain rows, in one query a page.


The page of products (with the brand joined) brings its ingredient and nutrient lines as JSON
arrays from correlated subqueries: one round trip to the database, which under load cost more
than building the rows. Compounds, their evidence, nutrients and the reference
intakes come from the knowledge snapshot kept per catalogue version (products.knowledge). The
output is exactly that of ``products.api.serializers.ProductSerializer`` (a test holds them
equal); the arithmetic is ``products.calculations``, as there.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from formulary.common.localization import current_language
from formulary.common.numbers import MG_PLACES, rounded
from products import calculations, claims
from products.claims_rows import health_claims_data
from products.knowledge import (
    CompoundFacts,
    Knowledge,
    knowledge,
    population_knowledge,
)
from products.line_aggregates import lines_json_sql
from products.models import IngredientLine, NutrientLine, Product
from products.populations import population_for, upper_limits_judge

PRODUCT_COLUMNS = (
    "id",
    "gtin",
    "name",
    "brand__slug",
    "brand__name",
    "dosage_form",
    "status",
    "units_per_package",
    "units_per_serving",
    "servings_per_day",
    "vegan",
    "gluten_free",
    "lactose_free",
    "price_eur",
    "label_elemental_mg_per_serving",
)


def product_values(products: QuerySet, *columns: str) -> QuerySet:
    """``products`` as dicts of ``PRODUCT_COLUMNS`` (and ``columns``) with their ingredient and
    nutrient lines, for ``product_rows``: one query."""
    vendor = connections[router.db_for_read(Product)].vendor
    return products.values(*PRODUCT_COLUMNS, *columns).annotate(
        ingredient_lines=RawSQL(
            lines_json_sql(
                IngredientLine._meta.db_table, ("compound_id", "amount_mg", "amount_basis"), vendor
            ),
            (),
        ),
        nutrient_lines=RawSQL(
            lines_json_sql(NutrientLine._meta.db_table, ("nutrient_id", "amount"), vendor), ()
        ),
    )


def parse_lines(text: str | None) -> list[tuple]:
    """(id, amount, *rest) tuples from ``lines_json_sql``; amounts as Decimal, never as float."""
    if not text:
        return []
    return [
        (line[0], Decimal(line[1]), *line[2:]) for line in json.loads(text, parse_float=Decimal)
    ]


def product_rows(
    products, *, with_health_claims: bool = False, population: str | None = None
) -> list[dict]:
    """``products``: dicts from ``product_values``; no query of its own.

    ``with_health_claims`` adds the claims each may carry (a detail's field, not the list's:
    a page of products would carry every claim text once per product). ``population``: whose
    upper limits ``population`` judges the daily amount against (a slug; adults by default).
    """
    data = knowledge()
    language = current_language()
    limits = PopulationLimits.of(population, language)
    return [
        product_row(
            product,
            parse_lines(product["ingredient_lines"]),
            parse_lines(product["nutrient_lines"]),
            data,
            language,
            with_health_claims=with_health_claims,
            population_limits=limits,
        )
        for product in products
    ]


def product_row(
    product,
    lines,
    nutrients,
    data: Knowledge,
    language: str,
    *,
    with_health_claims=False,
    population_limits: "PopulationLimits | None" = None,
) -> dict:
    """``population_limits``: whose upper limits judge the daily amount (adults by default)."""
    compounds = [data.compounds[compound_id] for compound_id, _, _ in lines]
    dose_lines = [
        calculations.DoseLine(
            amount_mg=amount_mg, amount_basis=basis, elemental_fraction=compound.elemental_fraction
        )
        for compound, (_, amount_mg, basis) in zip(compounds, lines, strict=True)
    ]
    dose = calculations.product_dose(
        lines=dose_lines,
        units_per_serving=product["units_per_serving"],
        servings_per_day=product["servings_per_day"],
        label_elemental_mg_per_serving=product["label_elemental_mg_per_serving"],
        nrv_mg=data.nrv_mg,
        upper_limits_mg=data.upper_limits_mg,
    )
    row = {
        "gtin": product["gtin"],
        "name": product["name"],
        "brand": {"slug": product["brand__slug"], "name": product["brand__name"]},
        "dosage_form": product["dosage_form"],
        "status": product["status"],
        "units_per_package": product["units_per_package"],
        "units_per_serving": rounded(product["units_per_serving"], 3),
        "servings_per_day": rounded(product["servings_per_day"], 2),
        "vegan": product["vegan"],
        "gluten_free": product["gluten_free"],
        "lactose_free": product["lactose_free"],
        "price_eur": rounded(product["price_eur"], 2),
        "ingredients": [
            ingredient_row(known_compound_row(data, compound_id, language), dose_line)
            for (compound_id, _, _), dose_line in zip(lines, dose_lines, strict=True)
        ],
        "nutrients": [
            {
                "slug": data.nutrients[nutrient_id]["slug"],
                "name": data.nutrients[nutrient_id]["names"][language],
                "amount": rounded(amount, 3),
                "unit": data.nutrients[nutrient_id]["unit"],
            }
            for nutrient_id, amount in nutrients
        ],
        "elemental_mg_per_unit": rounded(dose.elemental_mg_per_unit, MG_PLACES),
        "elemental_mg_per_serving": rounded(dose.elemental_mg_per_serving, MG_PLACES),
        "elemental_mg_per_day": rounded(dose.elemental_mg_per_day, MG_PLACES),
        "nrv_percent_per_day": rounded(dose.nrv_percent_per_day, 1),
        "upper_limits": {
            jurisdiction: {"limit_mg": limit_mg, "exceeded": dose.exceeds_upper_limit[jurisdiction]}
            for jurisdiction, limit_mg in data.upper_limits_shown.items()
        },
        "label_elemental_mg_per_serving": rounded(
            product["label_elemental_mg_per_serving"], MG_PLACES
        ),
        "label_mismatch": dose.label_mismatch,
        "indications": known_indication_rows(data, tuple(line[0] for line in lines), language),
        "population": (population_limits or PopulationLimits.of(None, language)).row(
            dose.elemental_mg_per_day
        ),
    }
    if with_health_claims:
        row["health_claims"] = product_health_claims(
            product, nutrients, dose.elemental_mg_per_day, data, language
        )
    return row


@dataclass(frozen=True)
class PopulationLimits:
    """Whose upper limits a page judges its products' daily amounts against: the limits and
    their sentences looked up once per page, not once per product."""

    slug: str
    judged: Callable[[Decimal], dict]

    @classmethod
    def of(cls, slug: str | None, language: str) -> "PopulationLimits":
        data = population_knowledge()
        population = population_for(data, slug)
        return cls(population.slug, upper_limits_judge(data, population, language))

    def row(self, mg_per_day: Decimal) -> dict:
        """The daily amount against the population's upper limit in every jurisdiction."""
        return {"slug": self.slug, "upper_limits": self.judged(mg_per_day)}


def product_health_claims(
    product, nutrients, elemental_mg_per_day: Decimal, data: Knowledge, language: str
) -> list[dict]:
    """The claims a product may carry, from its unrounded daily magnesium and nutrient lines."""
    nutrient_lines = [
        (data.nutrients[nutrient_id]["slug"], data.nutrients[nutrient_id]["unit"], amount)
        for nutrient_id, amount in nutrients
    ]
    return health_claims_data(
        data.source_of_rules,
        elemental_mg_per_day=elemental_mg_per_day,
        nutrient_mg_per_day=claims.nutrient_mg_per_day(nutrient_lines, product["servings_per_day"]),
        language=language,
    )


def ingredient_row(compound_row: dict, line: calculations.DoseLine) -> dict:
    amounts = calculations.line_amounts(line)
    return {
        "compound": compound_row,
        "amount_mg": rounded(line.amount_mg, 3),
        "amount_basis": line.amount_basis,
        "compound_mg": rounded(amounts.compound_mg, 1),
        "elemental_mg": rounded(amounts.elemental_mg, MG_PLACES),
    }


def known_compound_row(data: Knowledge, compound_id: int, language: str) -> dict:
    """The compound as an ingredient line shows it, made once per compound, language and
    catalogue version and shared by every line of it: read it, never change it."""
    key = (compound_id, language)
    row = data.compound_rows.get(key)
    if row is None:
        compound = data.compounds[compound_id]
        row = data.compound_rows[key] = {
            "slug": compound.slug,
            "name": compound.names[language],
            "formula": compound.formula,
            "elemental_magnesium_percent": rounded(compound.elemental_magnesium_percent, 2),
        }
    return row


# How many compound combinations (in line order, per language) a snapshot keeps the rows of.
# The feed of 100,000 products met 6,397 and left their 38,000 lists and dicts in the worker,
# where every full collection of the garbage collector walked them: after the feed of
# 1,000,000 its pauses went from 8 to 60-99 ms, the p99 of that worker's requests with them.
# The first combinations met are kept; the others are computed each time they are asked for.
MAX_KNOWN_INDICATION_ROWS = 1024


def known_indication_rows(data: Knowledge, compound_ids: tuple, language: str) -> list[dict]:
    """``indication_rows``, computed once per compound combination and catalogue version for
    the first ``MAX_KNOWN_INDICATION_ROWS`` combinations.

    The rows are shared by every product with those compounds: read them, never change them.
    """
    key = (compound_ids, language)
    rows = data.indication_rows.get(key)
    if rows is None:
        rows = indication_rows([data.compounds[id_] for id_ in compound_ids], language)
        if len(data.indication_rows) < MAX_KNOWN_INDICATION_ROWS:
            data.indication_rows[key] = rows
    return rows


def indication_rows(compounds: list[CompoundFacts], language: str) -> list[dict]:
    """The indications that follow from the compounds, each with its best grade."""
    found = {}
    for compound in compounds:
        for slug, names, grade in compound.evidence:
            entry = found.setdefault(
                slug, {"slug": slug, "name": names[language], "best_grade": grade, "compounds": []}
            )
            entry["best_grade"] = min(entry["best_grade"], grade)
            entry["compounds"].append(compound.slug)
    return [found[slug] for slug in sorted(found)]
