"""The knowledge base as the catalogue's readers hold it: one snapshot per catalogue version.

Compounds and their evidence links, nutrients, indications, the reference intakes and the
interaction rules are a few hundred rows that change rarely. The catalogue's read path
(products.catalogue_rows), its filters (products.api.filters) and matching
(products.matching.explain, products.api.match) all read them from this one snapshot, kept by
``formulary.common.catalogue_version.kept_per_version``: every write bumps the catalogue
version, and the next read in every process that shares it builds a new snapshot. Each part is
loaded on its first use, so a catalogue page does not pay for the rules only matching reads.
The compounds API keeps its own rendered profiles (compounds.api), by the same mechanism.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from compounds.models import CompoundForm, CompoundIndication, InteractionRule
from compounds.selectors import evidence_with_details, rules_with_details
from formulary.common.catalogue_version import kept_per_version
from formulary.enums import Jurisdiction
from formulary.models import Indication, Nutrient, ReferenceIntake
from formulary.selectors import adult_nrv_mg, adult_upper_limit, adult_upper_limits_mg


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
        # The catalogue's indication rows per (compound ids, language), filled as they are
        # asked for (products.catalogue_rows.known_indication_rows).
        self.indication_rows: dict = {}

    @cached_property
    def evidence(self) -> dict[int, list[CompoundIndication]]:
        """Evidence links per compound id, with indication, compound, carrier and references."""
        grouped = defaultdict(list)
        for link in evidence_with_details().select_related("compound__carrier"):
            grouped[link.compound_id].append(link)
        return dict(grouped)

    @cached_property
    def compounds(self) -> dict[int, CompoundFacts]:
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

    @cached_property
    def nutrients(self) -> dict[int, dict]:
        return {
            nutrient.pk: {
                "slug": nutrient.slug,
                "names": {"nl": nutrient.name_nl, "en": nutrient.name_en},
                "unit": nutrient.unit,
            }
            for nutrient in Nutrient.objects.all()
        }

    @cached_property
    def indications(self) -> dict[str, Indication]:
        return {indication.slug: indication for indication in Indication.objects.all()}

    @cached_property
    def indication_ids(self) -> dict[str, int]:
        return {slug: indication.pk for slug, indication in self.indications.items()}

    @cached_property
    def nrv_mg(self) -> Decimal | None:
        return adult_nrv_mg()

    @cached_property
    def upper_limits_mg(self) -> dict[str, Decimal]:
        return adult_upper_limits_mg()

    @cached_property
    def upper_limits(self) -> dict[str, ReferenceIntake | None]:
        """The adult upper-limit rows per jurisdiction, with their split-dose advice."""
        return {
            jurisdiction: adult_upper_limit(jurisdiction) for jurisdiction in Jurisdiction.values
        }

    @cached_property
    def rules(self) -> list[InteractionRule]:
        return list(rules_with_details())

    def rules_for(self, medication_slugs) -> list[InteractionRule]:
        return [rule for rule in self.rules if rule.medication.slug in medication_slugs]


knowledge = kept_per_version(Knowledge)
