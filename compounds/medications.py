"""Which interaction rules are in force for a medication, and how a name finds a medication.

A rule attaches to a class (fluoroquinolones) and is overridden for one substance
(moxifloxacin) or combination product (Juluca) where its own label differs: per mechanism,
the nearest row's rule wins (product, then substance, then class). A class asked for as such
stands for any of its members, so its members' overrides apply too; every window must then be
met, which is the most conservative of them.

The index is the whole vocabulary (a few dozen rows) kept in memory per catalogue version, so a
request resolves names and rules without a query.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch

from compounds.models import InteractionRule
from compounds.selectors import rules_with_details
from formulary.common.catalogue_version import kept_per_version
from formulary.common.localization import localized
from formulary.common.search import fold
from formulary.enums import MedicationKind
from formulary.models import Medication, MedicationCitation


@dataclass(frozen=True)
class MedicationIndex:
    by_slug: dict[str, Medication]
    by_term: dict[str, str]
    """Folded slug, Dutch or English name, or brand name -> slug."""
    own_rules: dict[int, list[InteractionRule]]
    children: dict[int, list[Medication]]

    def resolve(self, term: str) -> Medication | None:
        """The medication a slug, a name (either language) or a brand name stands for."""
        slug = self.by_term.get(fold(term))
        return None if slug is None else self.by_slug[slug]

    def descendants(self, medication: Medication) -> list[Medication]:
        found = []
        for child in self.children.get(medication.pk, []):
            found += [child, *self.descendants(child)]
        return found

    def rules_for(self, medication: Medication) -> list[InteractionRule]:
        """The rules in force: per mechanism the nearest row's; for a class, its members'
        overrides as well. Ordered by mechanism, the general rule before its overrides."""
        nearest: dict[str, InteractionRule] = {}
        for row in self.lineage(medication):
            for rule in self.own_rules.get(row.pk, []):
                nearest.setdefault(rule.mechanism, rule)
        rules = list(nearest.values())
        if medication.kind == MedicationKind.CLASS:
            rules += [
                rule
                for member in self.descendants(medication)
                for rule in self.own_rules.get(member.pk, [])
            ]
        depth = {row.pk: i for i, row in enumerate(self.lineage(medication))}
        return sorted(rules, key=lambda rule: (rule.mechanism, -depth.get(rule.medication_id, -1)))

    def lineage(self, medication: Medication) -> list[Medication]:
        chain, row = [], medication
        while row is not None and row.pk not in {r.pk for r in chain}:
            chain.append(row)
            row = self.by_slug[row.parent.slug] if row.parent_id else None
        return chain

    def taken_alone(self, medication: Medication) -> tuple[int, Medication] | None:
        """(minutes with nothing else after it, the row that states it) or None.

        The nearest row's value; for a class, the longest of the class and its members."""
        rows = self.lineage(medication)
        if medication.kind == MedicationKind.CLASS:
            rows = [medication, *self.descendants(medication)]
        stated = [(row.taken_alone_minutes, row) for row in rows if row.taken_alone_minutes]
        if not stated:
            return None
        if medication.kind == MedicationKind.CLASS:
            return max(stated, key=lambda pair: pair[0])
        return stated[0]

    def members_following(self, medication: Medication, rule: InteractionRule) -> list[str]:
        """The names of the class's members that keep this class rule (no override of their own)."""
        return [
            localized(member, "name")
            for member in self.descendants(medication)
            if member.kind == MedicationKind.SUBSTANCE
            and not any(
                own.mechanism == rule.mechanism for own in self.own_rules.get(member.pk, [])
            )
        ]


def build_medication_index() -> MedicationIndex:
    medications = list(
        Medication.objects.select_related("parent").prefetch_related(
            Prefetch(
                "medicationcitation_set",
                MedicationCitation.objects.select_related("reference"),
            )
        )
    )
    rules = rules_with_details()
    own_rules, children = defaultdict(list), defaultdict(list)
    for rule in rules:
        own_rules[rule.medication_id].append(rule)
    by_term: dict[str, str] = {}
    for medication in medications:
        if medication.parent_id:
            children[medication.parent_id].append(medication)
        for term in medication_search_terms(medication):
            # First come, first kept: a test holds every term to one medication.
            by_term.setdefault(fold(term), medication.slug)
    return MedicationIndex(
        by_slug={medication.slug: medication for medication in medications},
        by_term=by_term,
        own_rules=dict(own_rules),
        children=dict(children),
    )


medication_index = kept_per_version(build_medication_index)


def known_medications(terms: Iterable[str]) -> list[str]:
    """Which of some terms name a medication (for the shared slug-list field)."""
    index = medication_index()
    return [term for term in terms if index.resolve(term) is not None]


def medication_search_terms(medication: Medication) -> list[str]:
    return [medication.slug, medication.name_nl, medication.name_en, *medication.brand_names]
