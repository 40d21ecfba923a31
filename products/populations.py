"""What a population's limits say about a daily amount: the facts products/, match/, advice/ and
regimen/ show, from the one knowledge snapshot (products.knowledge).

A population's upper limit in a jurisdiction is the stored row of its life stage whose age
band meets the population's (the stricter if two do); where no row does, the jurisdiction
sets none for it and the answer says so (``set: false`` and a sentence), never borrowing
another population's or jurisdiction's limit. The texts are gettext strings, translated in
locale/nl.
"""

from collections.abc import Callable
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from formulary.common.localization import current_language, localized
from formulary.common.numbers import MG_PLACES, decimal_text, rounded
from formulary.enums import Jurisdiction
from formulary.models import Population, Reference
from products.knowledge import PopulationKnowledge, RegimenKnowledge, regimen_knowledge

JURISDICTIONS = tuple(Jurisdiction.values)  # the enum rebuilds its list on every read

RENAL_CAUTION = "severe-renal-impairment"
RENAL_VALUES = {"severe": RENAL_CAUTION}
"""renal=severe (eGFR below 30 mL/min, the threshold of the Magnaspartate SmPC) -> caution."""


def population_for(data: PopulationKnowledge, slug: str | None) -> Population:
    """The asked population, or the default one (adults); ``slug`` was validated already."""
    return data.populations[slug or data.default_population]


def population_name(population: Population) -> str:
    """The name as a sentence uses it: "children aged 1-3 years"."""
    name = localized(population, "name")
    return name[:1].lower() + name[1:]


def reference_facts(reference: Reference) -> dict:
    return {
        "key": reference.key,
        "citation": reference.citation,
        "doi": reference.doi or None,
        "pmid": reference.pmid or None,
        "url": reference.url or None,
        "status": reference.status,
    }


def no_limit_text(population: Population, jurisdiction: str) -> str:
    return _(
        "The %(body)s sets no supplemental upper limit of magnesium for %(population)s; "
        "none is borrowed from another population or jurisdiction."
    ) % {"body": jurisdiction.upper(), "population": population_name(population)}


def limit_text(population: Population, jurisdiction: str, limit_mg: Decimal) -> str:
    return _(
        "The %(body)s supplemental upper limit of magnesium for %(population)s is %(limit)s mg "
        "a day."
    ) % {
        "body": jurisdiction.upper(),
        "population": population_name(population),
        "limit": decimal_text(limit_mg, 0),
    }


def limit_facts(
    data: PopulationKnowledge, population: Population, jurisdiction: str, language: str
) -> dict:
    """What the limit says whatever the amount, kept in the snapshot per language: a page of
    products shows the same sentences and sources on every row. Read it, never change it."""
    key = (population.slug, jurisdiction, language)
    if key in data.limit_facts:
        return data.limit_facts[key]
    row = data.population_limits[population.slug, jurisdiction]
    with translation.override(language):
        facts = limit_facts_in_active_language(population, jurisdiction, row)
    data.limit_facts[key] = facts
    return facts


def limit_facts_in_active_language(population: Population, jurisdiction: str, row) -> dict:
    if row is None:
        return {
            "set": False,
            "limit_mg": None,
            "exceeded": None,
            "percent_of_limit": None,
            "split_dose_advised": False,
            "status": None,
            "references": [],
            "message": no_limit_text(population, jurisdiction),
        }
    return {
        "set": True,
        "limit_mg": rounded(row.amount_mg, MG_PLACES),
        "exceeded": None,
        "percent_of_limit": None,
        "split_dose_advised": row.split_dose_advised,
        "status": row.status,
        "references": [reference.key for reference in row.references.all()],
        "message": limit_text(population, jurisdiction, row.amount_mg),
    }


def upper_limits_judge(
    data: PopulationKnowledge, population: Population, language: str | None = None
) -> Callable[[Decimal | None], dict]:
    """``upper_limits_facts`` of ``population`` as a function of the daily amount: the limits
    and their sentences looked up once for a page of products that shares them."""
    language = language or current_language()
    limits = [
        (
            jurisdiction,
            data.population_limits[population.slug, jurisdiction],
            limit_facts(data, population, jurisdiction, language),
        )
        for jurisdiction in JURISDICTIONS
    ]

    def judged(mg_per_day: Decimal | None) -> dict:
        facts = {}
        for jurisdiction, row, limit in limits:
            facts[jurisdiction] = fact = dict(limit)
            if row is not None and mg_per_day is not None:
                fact["exceeded"] = mg_per_day > row.amount_mg
                fact["percent_of_limit"] = rounded(mg_per_day * 100 / row.amount_mg, 1)
        return facts

    return judged


def upper_limits_facts(
    data: PopulationKnowledge, population: Population, mg_per_day, language: str | None = None
) -> dict:
    """The population's magnesium limit in every jurisdiction against ``mg_per_day`` (None: no
    amount to judge, as for a compound's advice), its sentences in ``language`` (by default
    the active one)."""
    return upper_limits_judge(data, population, language)(mg_per_day)


def intake_facts(row, mg_per_day: Decimal | None) -> dict:
    return {
        "kind": row.kind,
        "sex": row.sex,
        "age_from_months": row.age_from_months,
        "age_to_months": row.age_to_months,
        "amount_mg": rounded(row.amount_mg, MG_PLACES),
        "percent_per_day": None
        if mg_per_day is None
        else rounded(mg_per_day * 100 / row.amount_mg, 1),
        "status": row.status,
        "references": [reference.key for reference in row.references.all()],
    }


def population_facts(data: PopulationKnowledge, population: Population, mg_per_day=None) -> dict:
    """The population with its limits and reference intakes per jurisdiction, each sourced."""
    return {
        "slug": population.slug,
        "name": localized(population, "name"),
        "life_stage": population.life_stage,
        "age_from_months": population.age_from_months,
        "age_to_months": population.age_to_months,
        "upper_limits": upper_limits_facts(data, population, mg_per_day),
        "reference_intakes": {
            jurisdiction: [
                intake_facts(row, mg_per_day)
                for row in data.population_intakes[population.slug, jurisdiction]
            ]
            for jurisdiction in Jurisdiction.values
        },
    }


def caution_facts(data: RegimenKnowledge, slug: str) -> dict:
    caution = data.cautions[slug]
    return {
        "slug": caution.slug,
        "name": localized(caution, "name"),
        "advice": localized(caution, "advice"),
        "status": caution.status,
        "references": [reference_facts(reference) for reference in caution.references.all()],
    }


def cautions_for(renal: str | None) -> list[dict]:
    """The cautions a request's flags ask for (renal=severe), with their sources; the
    snapshot that holds them is read only when one is asked for."""
    slug = RENAL_VALUES.get(renal or "")
    if slug is None:
        return []
    data = regimen_knowledge()
    return [caution_facts(data, slug)] if slug in data.cautions else []
