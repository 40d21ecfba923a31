"""Which EU-authorised health claims a product may carry, as JSON, and why (not).

A health claim is what the law allows a label to say about a nutrient (Reg. (EU) No
432/2012), on a product that is at least a "source of" it. It is not evidence: the evidence
grades of a product's compound forms are its ``indications``. The two have different names
everywhere: ``health_claims`` here, ``indications``/``evidence`` there.

``health_claims_data`` is self-contained so that every output of a product renders the same
claims: the API's detail (products.catalogue_rows), the admin's product page, and a feed.
The arithmetic is products.claims; the rules and claims are kept in memory per catalogue
version (``ReferenceData.source_of_rules``), so rendering them costs no query.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext

from formulary.common.numbers import decimal_text
from formulary.enums import ClaimNutrient, WordingStatus
from formulary.models import HealthClaim, Reference, SourceOfRule
from products import claims


@dataclass(frozen=True)
class ClaimFacts:
    slug: str
    efsa_ids: str
    texts: dict[str, str]
    statuses: dict[str, str]
    notes: dict[str, str]
    sources: tuple[dict, ...]


@dataclass(frozen=True)
class RuleFacts:
    threshold: claims.SourceOfThreshold
    rule_status: str
    basis: str
    basis_status: str
    basis_notes: dict[str, str]
    conditions: dict[str, str]
    condition_statuses: dict[str, str]
    sources: tuple[dict, ...]
    claims: tuple[ClaimFacts, ...]
    # The claims as JSON per language: the same for every product that qualifies.
    claim_rows: dict = field(default_factory=dict, compare=False)


def source_row(reference: Reference) -> dict:
    return {
        "key": reference.key,
        "citation": reference.citation,
        "url": reference.url or None,
        "status": reference.status,
    }


def build_source_of_rules() -> dict[str, RuleFacts]:
    """The rules with their claims and sources, by nutrient: four queries, once per version."""
    rules = SourceOfRule.objects.prefetch_related(
        "references",
        Prefetch("claims", HealthClaim.objects.prefetch_related("references").order_by("slug")),
    )
    return {
        rule.nutrient: RuleFacts(
            threshold=claims.SourceOfThreshold(
                nutrient=rule.nutrient,
                nrv_mg=rule.nrv_mg,
                minimum_percent_of_nrv=rule.minimum_percent_of_nrv,
            ),
            rule_status=rule.rule_status,
            basis=rule.basis,
            basis_status=rule.basis_status,
            basis_notes={"nl": rule.basis_note_nl, "en": rule.basis_note_en},
            conditions={"nl": rule.condition_nl, "en": rule.condition_en},
            condition_statuses={"nl": rule.condition_nl_status, "en": rule.condition_en_status},
            sources=tuple(source_row(reference) for reference in rule.references.all()),
            claims=tuple(
                ClaimFacts(
                    slug=claim.slug,
                    efsa_ids=claim.efsa_ids,
                    texts={"nl": claim.text_nl, "en": claim.text_en},
                    statuses={"nl": claim.text_nl_status, "en": claim.text_en_status},
                    notes={"nl": claim.note_nl, "en": claim.note_en},
                    sources=tuple(source_row(reference) for reference in claim.references.all()),
                )
                for claim in rule.claims.all()
            ),
        )
        for rule in rules
    }


def wording(text: str, status: str) -> dict:
    """A text with how far it was checked; only a text read in the Official Journal is official."""
    return {
        "text": text,
        "wording_status": status,
        "official_wording": status == WordingStatus.VERIFIED,
    }


def claim_rows(rule: RuleFacts, language: str) -> list[dict]:
    """The rule's claims as JSON, built once per language and catalogue version.

    The rows are shared by every product that qualifies: read them, never change them.
    """
    if language not in rule.claim_rows:
        rule.claim_rows[language] = [
            {
                "slug": claim.slug,
                **wording(claim.texts[language], claim.statuses[language]),
                "note": claim.notes[language],
                "efsa_ids": claim.efsa_ids,
                "sources": list(claim.sources),
            }
            for claim in rule.claims
        ]
    return rule.claim_rows[language]


def figure(value: Decimal) -> str:
    """A figure products.claims already rounded, written out without rounding it again."""
    return decimal_text(value, max(0, -value.as_tuple().exponent))


def verdict_text(verdict: claims.SourceOfVerdict) -> str:
    shown = claims.stated_verdict(verdict)
    values = {
        "amount": figure(shown.amount_mg),
        "nutrient": ClaimNutrient(verdict.threshold.nutrient).label,
        "percent": figure(shown.percent_of_nrv),
        "minimum": figure(shown.minimum_percent_of_nrv),
        "minimum_mg": figure(shown.minimum_mg),
    }
    if verdict.qualifies:
        return (
            gettext(
                "%(amount)s mg %(nutrient)s per daily dose = %(percent)s %% of the NRV, "
                "at least %(minimum)s %% needed"
            )
            % values
        )
    return (
        gettext(
            "%(amount)s mg %(nutrient)s per daily dose = %(percent)s %% of the NRV; at least "
            "%(minimum)s %% (%(minimum_mg)s mg) is needed, so the product is not a source of "
            "%(nutrient)s and may carry none of its claims"
        )
        % values
    )


def nutrient_row(rule: RuleFacts, amount_mg_per_day: Decimal, language: str) -> dict:
    verdict = claims.source_of_verdict(amount_mg_per_day, rule.threshold)
    shown = claims.stated_verdict(verdict)
    return {
        "nutrient": rule.threshold.nutrient,
        "name": str(ClaimNutrient(rule.threshold.nutrient).label),
        "may_carry_claims": verdict.qualifies,
        "verdict": verdict_text(verdict),
        "amount_mg_per_day": float(shown.amount_mg),
        "percent_of_nrv": float(shown.percent_of_nrv),
        "nrv_mg": float(shown.nrv_mg),
        "minimum_percent_of_nrv": float(shown.minimum_percent_of_nrv),
        "minimum_mg_per_day": float(shown.minimum_mg),
        "basis": rule.basis,
        "basis_status": rule.basis_status,
        "basis_note": rule.basis_notes[language],
        "rule_status": rule.rule_status,
        "condition": wording(rule.conditions[language], rule.condition_statuses[language]),
        "sources": list(rule.sources),
        "claims": claim_rows(rule, language) if verdict.qualifies else [],
    }


def health_claims_data(
    rules: dict[str, RuleFacts],
    *,
    elemental_mg_per_day: Decimal,
    nutrient_mg_per_day: dict[str, Decimal],
    language: str,
) -> list[dict]:
    """Per nutrient with authorised claims: whether the product may carry them, and why.

    ``elemental_mg_per_day`` is the product's magnesium from all its compounds, unrounded;
    ``nutrient_mg_per_day`` its other nutrients by slug (products.claims.nutrient_mg_per_day).
    Magnesium is always judged; another nutrient only when the product contains it.
    """
    amounts = {ClaimNutrient.MAGNESIUM.value: elemental_mg_per_day, **nutrient_mg_per_day}
    return [
        nutrient_row(rules[nutrient], amounts[nutrient], language)
        for nutrient in ClaimNutrient.values
        if nutrient in rules and nutrient in amounts
    ]
