"""Score, reasons and warnings for one page of match results, in the request language.

The database ranked the products (products/matching/ranking.py); this module recomputes each
one's factors with products/matching/score.py so a result explains its own score.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, prefetch_related_objects

from compounds.advice import medication_label, rule_text
from compounds.enums import EvidenceBasis, InteractionAction, LaxativeTendency
from compounds.models import CompoundIndication, InteractionRule
from compounds.selectors import evidence_with_details, rules_for_compound, rules_with_details
from formulary.citations import short_citation
from formulary.common.catalogue_version import kept_per_version
from formulary.common.localization import decimal_text, localized, translated
from formulary.enums import Jurisdiction, VerificationStatus
from formulary.models import Indication, ReferenceIntake
from formulary.selectors import adult_upper_limit
from products.matching import score as matching
from products.matching import weights as match_weights
from products.models import IngredientLine, Product

DOUBTFUL = (VerificationStatus.UNVERIFIED, VerificationStatus.DISPUTED)
WARNING_FOR_ACTION = {
    InteractionAction.SPACING: "medication_spacing",
    InteractionAction.MONITORING: "medication_monitoring",
    InteractionAction.CAUTION: "medication_caution",
    InteractionAction.INFORMATION: "medication_information",
}
TENDENCY_TEXT = {
    LaxativeTendency.LOW: {"en": "low", "nl": "laag"},
    LaxativeTendency.MODERATE: {"en": "moderate", "nl": "matig"},
    LaxativeTendency.HIGH: {"en": "high", "nl": "hoog"},
}


@dataclass(frozen=True)
class MatchRequest:
    """What one match request asks, with the reference data every result needs."""

    indications: list[Indication]
    limit: ReferenceIntake | None
    jurisdiction: str
    rules: list[InteractionRule]


@dataclass(frozen=True)
class MatchKnowledge:
    """The knowledge base as matching reads it: a few hundred rows, kept per catalogue version
    so that a match request reads only its ranking and the page's lines."""

    indications: dict[str, Indication]
    upper_limits: dict[str, ReferenceIntake | None]
    # Evidence links (indication, compound with carrier, references) per compound id.
    evidence: dict[int, list[CompoundIndication]]
    rules: list[InteractionRule]

    def rules_for(self, medication_slugs) -> list[InteractionRule]:
        return [rule for rule in self.rules if rule.medication.slug in medication_slugs]

    def evidence_bound(self, indication_slugs: list[str]) -> Decimal:
        """The highest mean evidence any product can have for the asked indications: the mean
        of each one's strongest link, since a product's best link is one of these links."""
        strongest = defaultdict(Decimal)
        for links in self.evidence.values():
            for link in links:
                slug = link.indication.slug
                strength = matching.link_strength(link.grade, link.basis)
                strongest[slug] = max(strongest[slug], strength)
        return matching.evidence_value(
            (strongest[slug] for slug in indication_slugs), len(indication_slugs)
        )


def build_match_knowledge() -> MatchKnowledge:
    evidence = defaultdict(list)
    for link in evidence_with_details().select_related("compound__carrier"):
        evidence[link.compound_id].append(link)
    return MatchKnowledge(
        indications={indication.slug: indication for indication in Indication.objects.all()},
        upper_limits={
            jurisdiction: adult_upper_limit(jurisdiction) for jurisdiction in Jurisdiction.values
        },
        evidence=dict(evidence),
        rules=list(rules_with_details()),
    )


match_knowledge = kept_per_version(build_match_knowledge)


def prefetch_page(products: list[Product], indication_slugs: list[str]) -> None:
    """The page's lines with their compounds (one query) and, from the kept knowledge, each
    compound's evidence for the asked indications as ``asked_evidence``."""
    lines = IngredientLine.objects.select_related("compound__carrier")
    prefetch_related_objects(products, Prefetch("ingredients", lines))
    evidence = match_knowledge().evidence
    asked = set(indication_slugs)
    for product in products:
        for line in product.ingredients.all():
            line.compound.asked_evidence = [
                link for link in evidence.get(line.compound_id, ()) if link.indication.slug in asked
            ]


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def mg(value: Decimal) -> str:
    return decimal_text(value, 0)


def daily_mg(value: Decimal) -> str:
    """A daily amount as the product's ``elemental_mg_per_day`` shows it (one decimal), so a
    sentence never calls 199.9 mg "200 mg ... below 200 mg"."""
    return decimal_text(value, 1)


def best_links(product: Product) -> dict[str, tuple[Decimal, CompoundIndication]]:
    """Per asked indication slug the strongest link among the product's compounds.

    Equal strengths go to the better grade letter, then to the compound slug, so the reason
    named is always the same one.
    """
    candidates = {}
    for line in product.ingredients.all():
        for link in line.compound.asked_evidence:
            strength = matching.link_strength(link.grade, link.basis)
            candidates.setdefault(link.indication.slug, []).append((strength, link))
    return {
        slug: min(links, key=lambda pair: (-pair[0], pair[1].grade, pair[1].compound.slug))
        for slug, links in candidates.items()
    }


def evidence_reason(link: CompoundIndication) -> str:
    compound = link.compound
    carrier_based = link.basis == EvidenceBasis.CARRIER
    citations = [short_citation(reference) for reference in link.references.all()]
    return translated(
        {
            "en": "{compound}: {subject} for {indication} (evidence {grade}, {basis}; {sources})",
            "nl": "{compound}: {subject} bij {indication} (bewijs {grade}, {basis}; {sources})",
        },
        compound=localized(compound, "name"),
        subject=localized(compound.carrier, "name").lower() if carrier_based else "magnesium",
        indication=localized(link.indication, "name").lower(),
        grade=link.grade,
        basis=translated(
            {"en": "carrier-based", "nl": "op basis van de drager"}
            if carrier_based
            else {"en": "magnesium-based", "nl": "op basis van magnesium"}
        ),
        sources=", ".join(citations) or translated({"en": "no source cited", "nl": "geen bron"}),
    )


def dose_reasons(product: Product, request: MatchRequest) -> list[str]:
    per_day = product.elemental_mg_per_day
    low, high = match_weights.DOSE_CURVE[1][0], match_weights.DOSE_CURVE[2][0]
    where = "below" if per_day < low else "above" if per_day > high else "within"
    reasons = [
        translated(
            {
                "en": "{mg} mg elemental magnesium a day is {where} the effective range of "
                "{low}-{high} mg",
                "nl": "{mg} mg elementair magnesium per dag ligt {where} het werkzame bereik van "
                "{low}-{high} mg",
            },
            mg=daily_mg(per_day),
            low=mg(low),
            high=mg(high),
            where=translated(
                {
                    "below": {"en": "below", "nl": "onder"},
                    "within": {"en": "within", "nl": "binnen"},
                    "above": {"en": "above", "nl": "boven"},
                }[where]
            ),
        )
    ]
    if request.limit is not None:
        above = per_day > request.limit.amount_mg
        reasons.append(
            translated(
                {
                    "en": "{mg} mg elemental magnesium a day is {where} the {body} supplemental "
                    "upper limit of {limit} mg",
                    "nl": "{mg} mg elementair magnesium per dag ligt {where} de {body}-bovengrens "
                    "voor supplementen van {limit} mg",
                },
                mg=daily_mg(per_day),
                body=request.jurisdiction.upper(),
                limit=mg(request.limit.amount_mg),
                where=translated(
                    {"en": "above", "nl": "boven"} if above else {"en": "within", "nl": "binnen"}
                ),
            )
        )
    return reasons


def worst_line(product: Product) -> IngredientLine:
    return min(
        product.ingredients.all(),
        key=lambda line: (
            match_weights.TOLERABILITY[line.compound.laxative_tendency],
            line.compound.slug,
        ),
    )


def tolerability_reason(product: Product) -> str:
    compound = worst_line(product).compound
    return translated(
        {
            "en": "Laxative tendency {tendency} ({compound})",
            "nl": "Laxerende werking {tendency} ({compound})",
        },
        tendency=translated(TENDENCY_TEXT[compound.laxative_tendency]),
        compound=localized(compound, "name"),
    )


def price_reason(euro_per_100mg: Decimal | None) -> str:
    if euro_per_100mg is None:
        return translated({"en": "No price known", "nl": "Geen prijs bekend"})
    return translated(
        {
            "en": "€{price} per 100 mg elemental magnesium",
            "nl": "€ {price} per 100 mg elementair magnesium",
        },
        price=decimal_text(euro_per_100mg, 2),
    )


def limit_warnings(product: Product, request: MatchRequest) -> list[dict]:
    limit = request.limit
    if limit is None:
        return []
    warnings = []
    body, limit_mg = request.jurisdiction.upper(), limit.amount_mg
    if product.elemental_mg_per_day > limit_mg:
        warnings.append(
            {
                "code": "upper_limit_exceeded",
                "message": translated(
                    {
                        "en": "{mg} mg elemental magnesium a day exceeds the {body} supplemental "
                        "upper "
                        "limit of {limit} mg.",
                        "nl": "{mg} mg elementair magnesium per dag overschrijdt de "
                        "{body}-bovengrens "
                        "voor supplementen van {limit} mg.",
                    },
                    mg=daily_mg(product.elemental_mg_per_day),
                    body=body,
                    limit=mg(limit_mg),
                ),
            }
        )
    if limit.split_dose_advised and product.elemental_mg_per_serving > limit_mg / 2:
        warnings.append(
            {
                "code": "split_daily_dose",
                "message": translated(
                    {
                        "en": "Split the daily amount over at least two intakes: one serving gives "
                        "{mg} mg, more than half the {body} upper limit of {limit} mg, and the "
                        "{body} "
                        "limit advises splitting.",
                        "nl": "Verdeel de dagelijkse hoeveelheid over minstens twee innames: één "
                        "portie "
                        "geeft {mg} mg, meer dan de helft van de {body}-bovengrens van {limit} "
                        "mg, en "
                        "bij die grens wordt splitsen geadviseerd.",
                    },
                    mg=mg(product.elemental_mg_per_serving),
                    body=body,
                    limit=mg(limit_mg),
                ),
            }
        )
    return warnings


def medication_warnings(product: Product, request: MatchRequest) -> list[dict]:
    compounds = [line.compound for line in product.ingredients.all()]
    applying = {
        rule.pk: rule
        for compound in compounds
        for rule in rules_for_compound(compound, request.rules)
    }
    warnings = []
    for rule in sorted(applying.values(), key=lambda r: (r.medication.slug, r.mechanism)):
        spacing = rule_text(rule)
        code = "medication_check_label" if rule.check_label else WARNING_FOR_ACTION[rule.action]
        text = (
            sentence(spacing) + "."
            if spacing
            else (f"{sentence(medication_label(rule.medication))}: {localized(rule, 'advice')}")
        )
        warnings.append({"code": code, "message": text})
    return warnings


def laxative_warnings(product: Product) -> list[dict]:
    compound = worst_line(product).compound
    tendency = compound.laxative_tendency
    if tendency == LaxativeTendency.LOW or (
        tendency == LaxativeTendency.MODERATE
        and product.elemental_mg_per_day <= match_weights.LAXATIVE_WARNING_DAILY_MG
    ):
        return []
    return [
        {
            "code": "laxative_tendency",
            "message": translated(
                {
                    "en": "{compound} has a {tendency} laxative tendency; at {mg} mg magnesium a "
                    "day "
                    "loose stools are likely.",
                    "nl": "{compound} werkt {tendency} laxerend; bij {mg} mg magnesium per dag is "
                    "dunne "
                    "ontlasting waarschijnlijk.",
                },
                compound=localized(compound, "name"),
                tendency=translated(TENDENCY_TEXT[tendency]),
                mg=daily_mg(product.elemental_mg_per_day),
            ),
        }
    ]


def unverified_warnings(product: Product, links) -> list[dict]:
    items = [
        translated(
            {
                "en": "evidence {compound} for {indication} ({status})",
                "nl": "bewijs {compound} bij {indication} ({status})",
            },
            compound=localized(link.compound, "name"),
            indication=localized(link.indication, "name").lower(),
            status=link.status,
        )
        for link in links
        if link.status in DOUBTFUL
    ]
    items += [
        translated(
            {
                "en": "laxative tendency of {compound} ({status})",
                "nl": "laxerende werking van {compound} ({status})",
            },
            compound=localized(line.compound, "name"),
            status=line.compound.laxative_status,
        )
        for line in product.ingredients.all()
        if line.compound.laxative_status in DOUBTFUL
    ]
    if not items:
        return []
    return [
        {
            "code": "unverified_data",
            "message": translated(
                {
                    "en": "Not verified in the sources: {items}.",
                    "nl": "Niet geverifieerd in de bronnen: {items}.",
                },
                items="; ".join(items),
            ),
        }
    ]


def explain(product: Product, request: MatchRequest) -> dict:
    best = best_links(product)
    lines = list(product.ingredients.all())
    euro_per_100mg = matching.price_per_100mg(
        price_eur=product.price_eur,
        elemental_mg_per_serving=product.elemental_mg_per_serving,
        units_per_serving=product.units_per_serving,
        units_per_package=product.units_per_package,
    )
    parts = matching.factors(
        matching.MatchInput(
            best_strength_per_indication={slug: strength for slug, (strength, _l) in best.items()},
            asked_count=len(request.indications),
            mg_per_day=product.elemental_mg_per_day,
            limit_mg=request.limit.amount_mg if request.limit else None,
            tendencies=tuple(line.compound.laxative_tendency for line in lines),
            euro_per_100mg=euro_per_100mg,
        )
    )
    links = [best[i.slug][1] for i in request.indications if i.slug in best]
    reasons = [evidence_reason(link) for link in links] + [
        translated(
            {
                "en": "No compound in this product is linked to {indication}",
                "nl": "Geen vorm in dit product is gekoppeld aan {indication}",
            },
            indication=localized(indication, "name").lower(),
        )
        for indication in request.indications
        if indication.slug not in best
    ]
    reasons += [
        *dose_reasons(product, request),
        tolerability_reason(product),
        price_reason(euro_per_100mg),
    ]
    every_link = [link for line in lines for link in line.compound.asked_evidence]
    warnings = [
        *limit_warnings(product, request),
        *medication_warnings(product, request),
        *laxative_warnings(product),
        *unverified_warnings(product, every_link),
    ]
    return {
        "product": product,
        "score": matching.score(parts),
        "factors": parts,
        "covered_indications": [i.slug for i in request.indications if i.slug in best],
        "reasons": reasons,
        "warnings": warnings,
    }
