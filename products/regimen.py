"""Several products, compounds and other supplements at once, with the person's medication.

The answer of POST /api/v1/regimen/ (products.api.regimen), from inputs the API resolved:

- the total elemental magnesium a day against the population's limits, and each item's share;
- every nutrient other than magnesium with its total a day, whether more than one item holds
  it (a duplicate), and its upper limits where the knowledge base has them;
- the supplement rules (zinc, iron, calcium against magnesium, compounds.SupplementRule) and
  whether each applies: a rule spaces another supplement taken on its own; the same nutrient
  inside a magnesium product is taken with the magnesium and cannot be spaced from it;
- one day plan under the rules of advice/ (compounds.advice.intake_plan), with each spaced
  supplement placed like a medication, or the intakes that collide.

All magnesium items are taken together at the magnesium intakes: as many a day as the item
with the most (a product's servings per day rounded up, a compound's intakes); an item with
fewer takes the first ones. The sums are exact Decimals; rounding happens once, at output.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from compounds.advice import Dosing, Timing, Window, intake_plan, window_text
from compounds.enums import InteractionAction
from compounds.medications import MedicationIndex
from compounds.models import CompoundForm, SupplementRule
from formulary.common.localization import localized
from formulary.common.numbers import MG_PLACES, decimal_text, rounded
from formulary.enums import Jurisdiction
from formulary.models import Nutrient, Population
from products import calculations
from products.knowledge import PopulationKnowledge, RegimenKnowledge
from products.models import Product
from products.populations import (
    cautions_for,
    population_facts,
    population_name,
    reference_facts,
    upper_limits_facts,
)


@dataclass(frozen=True)
class CompoundItem:
    compound: CompoundForm
    amount_mg: Decimal
    amount_basis: str
    intakes_per_day: int


@dataclass(frozen=True)
class SupplementItem:
    nutrient: Nutrient
    amount: Decimal
    """Per intake, in the nutrient's unit."""
    intakes_per_day: int


def compound_mg_per_day(item: CompoundItem) -> Decimal:
    line = calculations.DoseLine(
        amount_mg=item.amount_mg,
        amount_basis=item.amount_basis,
        elemental_fraction=item.compound.elemental_magnesium_percent / 100,
    )
    return calculations.line_amounts(line).elemental_mg * item.intakes_per_day


def magnesium_items(products: Sequence[Product], compounds: Sequence[CompoundItem]) -> list[dict]:
    """Each magnesium item with its elemental mg a day and magnesium intakes a day, unrounded."""
    return [
        {
            "kind": "product",
            "gtin": product.gtin,
            "compound": None,
            "name": product.name,
            "mg_per_day": product.elemental_mg_per_day,
            "intakes_per_day": math.ceil(product.servings_per_day),
        }
        for product in products
    ] + [
        {
            "kind": "compound",
            "gtin": None,
            "compound": item.compound.slug,
            "name": localized(item.compound, "name"),
            "mg_per_day": compound_mg_per_day(item),
            "intakes_per_day": item.intakes_per_day,
        }
        for item in compounds
    ]


def magnesium_section(data: PopulationKnowledge, population: Population, items: list[dict]) -> dict:
    total = sum((item["mg_per_day"] for item in items), Decimal(0))
    return {
        "total_mg_per_day": rounded(total, MG_PLACES),
        "items": [
            {
                **item,
                "mg_per_day": rounded(item["mg_per_day"], MG_PLACES),
                "share_percent": rounded(item["mg_per_day"] * 100 / total, 1) if total else None,
            }
            for item in items
        ],
        "upper_limits": upper_limits_facts(data, population, total),
    }


def nutrient_sources(
    products: Sequence[Product], supplements: Sequence[SupplementItem]
) -> dict[str, list[dict]]:
    """Per nutrient slug the items that hold it, with the amount a day (in its unit)."""
    found = defaultdict(list)
    for product in products:
        for line in product.nutrients.all():
            found[line.nutrient.slug].append(
                {
                    "kind": "product",
                    "gtin": product.gtin,
                    "name": product.name,
                    "amount_per_day": line.amount * product.servings_per_day,
                    "nutrient": line.nutrient,
                }
            )
    for item in supplements:
        found[item.nutrient.slug].append(
            {
                "kind": "supplement",
                "gtin": None,
                "name": localized(item.nutrient, "name"),
                "amount_per_day": item.amount * item.intakes_per_day,
                "nutrient": item.nutrient,
            }
        )
    return dict(found)


def unit_text(unit: str) -> str:
    return "µg" if unit == "ug" else unit


def nutrient_limit_facts(
    data: RegimenKnowledge, nutrient: Nutrient, population: Population, jurisdiction: str, total
) -> dict:
    row = data.nutrient_limits.get((nutrient.slug, population.slug, jurisdiction))
    if row is None:
        return {
            "stored": False,
            "limit": None,
            "exceeded": None,
            "status": None,
            "references": [],
            "message": _(
                "The knowledge base holds no %(body)s upper limit of %(nutrient)s for "
                "%(population)s."
            )
            % {
                "body": jurisdiction.upper(),
                "nutrient": localized(nutrient, "name"),
                "population": population_name(population),
            },
        }
    return {
        "stored": True,
        "limit": rounded(row.amount, 3),
        "exceeded": total > row.amount,
        "status": row.status,
        "references": [reference.key for reference in row.references.all()],
        "message": _(
            "%(total)s %(unit)s of %(nutrient)s a day against the %(body)s upper limit of "
            "%(limit)s %(unit)s (%(status)s)."
        )
        % {
            "total": decimal_text(total, 3),
            "unit": unit_text(nutrient.unit),
            "nutrient": localized(nutrient, "name"),
            "body": jurisdiction.upper(),
            "limit": decimal_text(row.amount, 3),
            "status": row.status,
        },
    }


def nutrients_section(data: RegimenKnowledge, population: Population, sources: dict) -> list[dict]:
    answer = []
    for slug in sorted(sources):
        items = sources[slug]
        nutrient = items[0]["nutrient"]
        total = sum((item["amount_per_day"] for item in items), Decimal(0))
        answer.append(
            {
                "slug": slug,
                "name": localized(nutrient, "name"),
                "unit": nutrient.unit,
                "total_per_day": rounded(total, 3),
                "duplicated": len(items) > 1,
                "sources": [
                    {
                        "kind": item["kind"],
                        "gtin": item["gtin"],
                        "name": item["name"],
                        "amount_per_day": rounded(item["amount_per_day"], 3),
                    }
                    for item in items
                ],
                "upper_limits": {
                    jurisdiction: nutrient_limit_facts(
                        data, nutrient, population, jurisdiction, total
                    )
                    for jurisdiction in Jurisdiction.values
                },
            }
        )
    return answer


def rule_window(rule: SupplementRule) -> Window | None:
    """The rule's spacing as the schedule keeps it; None when it sets no times."""
    if rule.action != InteractionAction.SPACING or rule.check_label:
        return None
    if rule.supplement_before_mg_hours is None and rule.supplement_after_mg_hours is None:
        return None
    return Window(rule.supplement_before_mg_hours, rule.supplement_after_mg_hours)


def rule_applies(rule: SupplementRule, separate_per_day: Decimal) -> bool:
    minimum = rule.minimum_daily_amount
    return separate_per_day > 0 and (minimum is None or separate_per_day >= minimum)


def supplement_rule_facts(
    rule: SupplementRule, *, separate_per_day: Decimal, in_products: list[str]
) -> dict:
    """One supplement rule with its sources, and whether and why it applies to this regimen."""
    nutrient = rule.nutrient
    name = localized(nutrient, "name")
    applies = rule_applies(rule, separate_per_day)
    window = rule_window(rule)
    if applies:
        reason = (
            window_text(name[:1].lower() + name[1:], window)
            if window is not None
            else _("No sourced window for %(nutrient)s: check the product label.")
            % {"nutrient": name}
        )
    elif separate_per_day > 0:
        reason = _(
            "%(amount)s %(unit)s of %(nutrient)s a day taken on its own is below the "
            "%(minimum)s %(unit)s from which the rule holds."
        ) % {
            "amount": decimal_text(separate_per_day, 3),
            "unit": unit_text(nutrient.unit),
            "nutrient": name,
            "minimum": decimal_text(rule.minimum_daily_amount, 3),
        }
    else:
        reason = _(
            "%(nutrient)s comes only inside a magnesium product (%(products)s): it is taken "
            "with the magnesium and cannot be spaced from it."
        ) % {"nutrient": name, "products": ", ".join(in_products)}
    return {
        "nutrient": nutrient.slug,
        "mechanism": rule.mechanism,
        "action": "check_label" if rule.check_label else rule.action.value,
        "supplement_before_mg_hours": rounded(rule.supplement_before_mg_hours, 1),
        "supplement_after_mg_hours": rounded(rule.supplement_after_mg_hours, 1),
        "minimum_daily_amount": rounded(rule.minimum_daily_amount, 3),
        "advice": localized(rule, "advice"),
        "status": rule.status,
        "applies": applies,
        "reason": reason,
        "sources": [
            {
                "reference": reference_facts(citation.reference),
                "stated_supplement_before_mg_hours": rounded(
                    citation.stated_supplement_before_mg_hours, 1
                ),
                "stated_supplement_after_mg_hours": rounded(
                    citation.stated_supplement_after_mg_hours, 1
                ),
                "stated": citation.stated,
            }
            for citation in rule.supplementrulecitation_set.all()
        ],
    }


def supplement_timings(
    supplements: Sequence[SupplementItem], rules: list[tuple[SupplementRule, bool]]
) -> list[tuple[str, str, Timing]]:
    """The separately taken supplements that a rule in force spaces, as the schedule's
    further intakes: every window of the nutrient's applying rules, every intake of it."""
    windows = defaultdict(list)
    for rule, applies in rules:
        window = rule_window(rule)
        if applies and window is not None:
            windows[rule.nutrient.slug].append(window)
    return [
        (
            item.nutrient.slug,
            localized(item.nutrient, "name"),
            Timing(
                windows=tuple(windows[item.nutrient.slug]),
                dosing=Dosing(doses_per_day=item.intakes_per_day, stated=True),
            ),
        )
        for item in supplements
        if windows[item.nutrient.slug]
    ]


def assumption_texts(magnesium_count: int) -> list[str]:
    return [
        _(
            "All magnesium items are taken together at the %(count)s magnesium intake(s) a "
            "day; an item with fewer takes the first ones."
        )
        % {"count": magnesium_count},
        _(
            "A supplement taken on its own keeps its rule's window with every magnesium "
            "intake; one without a sourced window is not placed in the schedule."
        ),
        _("The upper limits concern supplemental intake only; food is not counted."),
    ]


def regimen(
    data: PopulationKnowledge,
    rules_data: RegimenKnowledge,
    *,
    population: Population,
    products: Sequence[Product],
    compounds: Sequence[CompoundItem],
    supplements: Sequence[SupplementItem],
    medications: Sequence[tuple],
    index: MedicationIndex,
    renal: str | None,
) -> dict:
    items = magnesium_items(products, compounds)
    total = sum((item["mg_per_day"] for item in items), Decimal(0))
    sources = nutrient_sources(products, supplements)
    separate = defaultdict(Decimal)
    for item in supplements:
        separate[item.nutrient.slug] += item.amount * item.intakes_per_day
    rules = []
    for slug in sorted(sources):
        for rule in rules_data.supplement_rules.get(slug, ()):
            rules.append((rule, rule_applies(rule, separate[slug])))
    rule_facts = [
        supplement_rule_facts(
            rule,
            separate_per_day=separate[rule.nutrient.slug],
            in_products=[
                source["name"]
                for source in sources[rule.nutrient.slug]
                if source["kind"] == "product"
            ],
        )
        for rule, _applies in rules
    ]
    all_compounds = list(
        {
            compound.pk: compound
            for compound in [line.compound for p in products for line in p.ingredients.all()]
            + [item.compound for item in compounds]
        }.values()
    )
    count = max(item["intakes_per_day"] for item in items)
    plan = intake_plan(
        compounds=all_compounds,
        intakes_per_day=count,
        medications=medications,
        index=index,
        others=supplement_timings(supplements, rules),
    )
    plan["assumptions"]["text"] += assumption_texts(
        plan["assumptions"]["magnesium_intakes_per_day"]
    )
    return {
        "population": population_facts(data, population, total),
        "cautions": cautions_for(renal),
        "magnesium": magnesium_section(data, population, items),
        "nutrients": nutrients_section(rules_data, population, sources),
        "supplement_rules": rule_facts,
        **plan,
    }
