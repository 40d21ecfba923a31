"""The knowledge base as the catalogue's readers hold it: one snapshot per catalogue version.

Compounds and their evidence links, nutrients, indications, the reference intakes and the
interaction rules (through ``compounds.medications.medication_index``) are a few hundred rows
that change rarely. The catalogue's read path
(products.catalogue_rows), its filters (products.api.filters) and matching
(products.matching.explain, products.api.match) all read them from this one snapshot, kept by
``formulary.common.catalogue_version.kept_per_version``: every write bumps the catalogue
version, and the next read in every process that shares it builds a new snapshot. The whole
snapshot is built at once (about ten queries, once per version and process), so the queries of
a request never depend on which products or parameters it happens to be the first to need.
The compounds API keeps its own rendered profiles (compounds.api), by the same mechanism.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from compounds.advice import rule_subject
from compounds.medications import medication_index
from compounds.models import CompoundForm, CompoundIndication, InteractionRule, SupplementRule
from compounds.selectors import evidence_with_details
from formulary.common.catalogue_version import kept_per_version
from formulary.common.numbers import rounded
from formulary.enums import IntakeKind, Jurisdiction
from formulary.models import (
    Caution,
    Indication,
    Nutrient,
    NutrientUpperLimit,
    Population,
    ReferenceIntake,
)
from formulary.selectors import (
    adult_nrv_mg,
    adult_upper_limit,
    adult_upper_limits_mg,
    rows_for_population,
    strictest,
)
from products.claims_rows import build_source_of_rules

# The reference intake a population is shown per jurisdiction: the physiological value with
# every band and life stage stored (EFSA's adequate intakes, the IOM's allowances); the
# labelling values (EU NRV, US Daily Value) stay what nrv_percent_per_day uses.
POPULATION_INTAKE_KIND = {
    Jurisdiction.EU: IntakeKind.ADEQUATE_INTAKE,
    Jurisdiction.US: IntakeKind.RDA,
}


@dataclass(frozen=True)
class CompoundFacts:
    """What a catalogue row shows of a compound."""

    slug: str
    names: dict[str, str]
    formula: str
    elemental_magnesium_percent: Decimal
    # (indication slug, names by language, grade) in the evidence's own ordering.
    evidence: tuple[tuple[str, dict[str, str], str], ...]

    @property
    def elemental_fraction(self) -> Decimal:
        return self.elemental_magnesium_percent / 100


class Knowledge:
    """One catalogue version's knowledge base. Read it, never change it: it is shared."""

    def __init__(self):
        self.evidence = self.load_evidence()
        self.compounds = self.load_compounds()
        self.nutrients = self.load_nutrients()
        self.indications = {indication.slug: indication for indication in Indication.objects.all()}
        self.indication_ids = {slug: indication.pk for slug, indication in self.indications.items()}
        self.nrv_mg: Decimal | None = adult_nrv_mg()
        self.upper_limits_mg: dict[str, Decimal] = adult_upper_limits_mg()
        # As every catalogue row shows them.
        self.upper_limits_shown = {
            jurisdiction: rounded(limit, 1) for jurisdiction, limit in self.upper_limits_mg.items()
        }
        # The adult upper-limit rows per jurisdiction, with their split-dose advice.
        self.upper_limits: dict[str, ReferenceIntake | None] = {
            jurisdiction: adult_upper_limit(jurisdiction) for jurisdiction in Jurisdiction.values
        }
        # The "source of" rules with their health claims, by nutrient (products.claims_rows).
        self.source_of_rules = build_source_of_rules()
        # The catalogue's indication rows per (compound ids, language), filled as they are
        # asked for (products.catalogue_rows.known_indication_rows).
        self.indication_rows: dict = {}
        # A compound as an ingredient line shows it, per (compound id, language), filled as
        # asked for (products.catalogue_rows.known_compound_row).
        self.compound_rows: dict = {}

    @staticmethod
    def load_evidence() -> dict[int, list[CompoundIndication]]:
        """Evidence links per compound id, with indication, compound, carrier and references."""
        grouped = defaultdict(list)
        for link in evidence_with_details().select_related("compound__carrier"):
            grouped[link.compound_id].append(link)
        return dict(grouped)

    def load_compounds(self) -> dict[int, CompoundFacts]:
        return {
            compound.pk: CompoundFacts(
                slug=compound.slug,
                names={"nl": compound.name_nl, "en": compound.name_en},
                formula=compound.formula,
                elemental_magnesium_percent=compound.elemental_magnesium_percent,
                evidence=tuple(
                    (
                        link.indication.slug,
                        {"nl": link.indication.name_nl, "en": link.indication.name_en},
                        link.grade,
                    )
                    for link in self.evidence.get(compound.pk, ())
                ),
            )
            for compound in CompoundForm.objects.only(
                "slug", "name_nl", "name_en", "formula", "elemental_magnesium_percent"
            )
        }

    @staticmethod
    def load_nutrients() -> dict[int, dict]:
        return {
            nutrient.pk: {
                "slug": nutrient.slug,
                "names": {"nl": nutrient.name_nl, "en": nutrient.name_en},
                "unit": nutrient.unit,
            }
            for nutrient in Nutrient.objects.all()
        }

    @staticmethod
    def rules_for(medication_terms) -> list[tuple[str, InteractionRule]]:
        """The rules in force for the asked medications (slugs, names or brands), each with
        the name its sentence uses: a substance inherits its class's rule under its own name,
        a class brings its members' overrides (moxifloxacin's window)."""
        index = medication_index()
        found, seen = [], set()
        for term in medication_terms:
            medication = index.resolve(term)
            if medication.pk in seen:
                continue
            seen.add(medication.pk)
            found += [
                (rule_subject(rule, medication, index), rule)
                for rule in index.rules_for(medication)
            ]
        return found


knowledge = kept_per_version(Knowledge)


class PopulationKnowledge:
    """Per population and jurisdiction the magnesium upper limit (None: the jurisdiction sets
    none) and the reference intakes: what every product row shows (three queries a version).
    Apart from ``Knowledge`` so the lists that show no population do not build it."""

    def __init__(self):
        self.populations = {population.slug: population for population in Population.objects.all()}
        self.default_population = next(
            (slug for slug, population in self.populations.items() if population.is_default),
            None,
        )
        intakes = list(ReferenceIntake.objects.prefetch_related("references"))
        self.population_limits: dict[tuple[str, str], ReferenceIntake | None] = {}
        self.population_intakes: dict[tuple[str, str], list[ReferenceIntake]] = {}
        for slug, population in self.populations.items():
            for jurisdiction in Jurisdiction.values:
                rows = [row for row in intakes if row.jurisdiction == jurisdiction]
                self.population_limits[slug, jurisdiction] = strictest(
                    rows_for_population(
                        [row for row in rows if row.kind == IntakeKind.UPPER_LIMIT], population
                    )
                )
                self.population_intakes[slug, jurisdiction] = rows_for_population(
                    [row for row in rows if row.kind == POPULATION_INTAKE_KIND[jurisdiction]],
                    population,
                )
        # What a limit says whatever the amount, per (population, jurisdiction, language),
        # filled as it is asked for (products.populations.limit_facts).
        self.limit_facts: dict[tuple[str, str, str], dict] = {}


population_knowledge = kept_per_version(PopulationKnowledge)


class RegimenKnowledge:
    """The nutrients' upper limits, the cautions and the supplement rules: what advice/,
    match/ (with renal=) and regimen/ add (seven queries a version)."""

    def __init__(self):
        self.populations = population_knowledge().populations
        limits = list(
            NutrientUpperLimit.objects.select_related("nutrient").prefetch_related("references")
        )
        self.nutrient_limits: dict[tuple[str, str, str], NutrientUpperLimit | None] = {
            (nutrient_slug, slug, jurisdiction): strictest(
                rows_for_population(
                    [
                        row
                        for row in limits
                        if row.nutrient.slug == nutrient_slug and row.jurisdiction == jurisdiction
                    ],
                    population,
                ),
                amount=lambda row: row.amount,
            )
            for nutrient_slug in {row.nutrient.slug for row in limits}
            for slug, population in self.populations.items()
            for jurisdiction in Jurisdiction.values
        }
        self.cautions = {
            caution.slug: caution for caution in Caution.objects.prefetch_related("references")
        }
        self.supplement_rules: dict[str, list[SupplementRule]] = defaultdict(list)
        for rule in SupplementRule.objects.select_related("nutrient").prefetch_related(
            "supplementrulecitation_set__reference"
        ):
            self.supplement_rules[rule.nutrient.slug].append(rule)


regimen_knowledge = kept_per_version(RegimenKnowledge)
