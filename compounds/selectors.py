"""Reads of compounds, evidence and rules, with everything their profiles need prefetched."""

from django.db.models import Prefetch, QuerySet

from compounds.models import (
    CarrierEffect,
    CompoundForm,
    CompoundIndication,
    InteractionRule,
    InteractionRuleCitation,
)
from formulary.models import Indication


def rules_with_details() -> QuerySet[InteractionRule]:
    """Rules with their medication, compounds, references and each source's stated window."""
    return InteractionRule.objects.select_related("medication").prefetch_related(
        "references",
        "compounds",
        Prefetch(
            "interactionrulecitation_set",
            InteractionRuleCitation.objects.select_related("reference").order_by("reference__key"),
        ),
    )


def evidence_with_details() -> QuerySet[CompoundIndication]:
    return CompoundIndication.objects.select_related("compound", "indication").prefetch_related(
        "references"
    )


def compound_profiles() -> QuerySet[CompoundForm]:
    return CompoundForm.objects.select_related("carrier").prefetch_related(
        "references",
        Prefetch(
            "carrier__effects",
            CarrierEffect.objects.prefetch_related("indications", "references"),
        ),
        Prefetch("evidence", evidence_with_details()),
    )


def rules_for_compound(compound: CompoundForm, rules) -> list[InteractionRule]:
    """The rules that apply to ``compound``: unrestricted ones and those naming it."""
    return [
        rule
        for rule in rules
        if not rule.compounds.all() or any(c.pk == compound.pk for c in rule.compounds.all())
    ]


def indications_with_evidence() -> QuerySet[Indication]:
    return Indication.objects.prefetch_related(Prefetch("evidence", evidence_with_details()))
