"""Score, reasons and warnings for one page of match results, in the request language.

The database ranked the products (products/matching/ranking.py); this module recomputes each
one's factors with products/matching/score.py so a result explains its own score.
"""

import json
from dataclasses import dataclass
from decimal import Decimal

from compounds.advice import rule_text
from compounds.enums import EvidenceBasis, InteractionAction, LaxativeTendency
from compounds.models import CompoundForm, CompoundIndication, InteractionRule
from compounds.selectors import rules_for_compound
from formulary.citations import short_citation
from formulary.common.catalogue_version import kept_per_version
from formulary.common.localization import localized, translated
from formulary.common.numbers import MG_PLACES, decimal_text
from formulary.enums import VerificationStatus
from formulary.models import Indication, Population, ReferenceIntake
from products.knowledge import knowledge
from products.matching import score as matching
from products.matching import weights as match_weights
from products.matching.ranking import LINE_COMPOUNDS
from products.models import IngredientLine, Product
from products.populations import no_limit_text

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
    rules: list[tuple[str, InteractionRule]]
    """(how the rule's sentence names the medication, the rule) for the asked medications."""
    population: Population | None = None
    """Whose limit ``limit`` is (adults when None); ``limit`` None: that jurisdiction sets none."""
    cautions: tuple | list = ()
    """The cautions the request's flags ask for (products.populations.cautions_for)."""


@dataclass(frozen=True)
class MatchLine:
    """One ingredient line of a result as matching reads it: the compound (with its carrier),
    and its evidence links for the asked indications."""

    compound: CompoundForm
    asked_evidence: tuple[CompoundIndication, ...]


def build_compound_forms() -> dict[int, CompoundForm]:
    return {compound.pk: compound for compound in CompoundForm.objects.select_related("carrier")}


# The compounds with their carriers, kept per knowledge version as the knowledge base is
# (products.knowledge): a page's lines then need only their compound ids. Shared: read only.
compound_forms = kept_per_version(build_compound_forms)


def page_compound_ids(products: list[Product]) -> dict[int, list[int]]:
    """Per product id its lines' compound ids in line order: from the ranking's
    ``line_compounds`` (products.matching.ranking) where it brought them, else one query."""
    if all(hasattr(product, LINE_COMPOUNDS) for product in products):
        return {
            product.pk: json.loads(getattr(product, LINE_COMPOUNDS) or "[]") for product in products
        }
    found = {product.pk: [] for product in products}
    lines = IngredientLine.objects.filter(product_id__in=found).order_by("product_id", "id")
    for product_id, compound_id in lines.values_list("product_id", "compound_id"):
        found[product_id].append(compound_id)
    return found


def prefetch_page(products: list[Product], indication_slugs: list[str]) -> None:
    """Each product's lines as ``match_lines``: the compounds from the kept snapshot, each
    with its evidence for the asked indications from the kept knowledge."""
    compounds = compound_forms()
    evidence = knowledge().evidence
    asked = set(indication_slugs)
    page = page_compound_ids(products)
    lines = {}
    for compound_ids in page.values():
        for compound_id in compound_ids:
            if compound_id not in lines:
                lines[compound_id] = MatchLine(
                    compound=compounds[compound_id],
                    asked_evidence=tuple(
                        link
                        for link in evidence.get(compound_id, ())
                        if link.indication.slug in asked
                    ),
                )
    for product in products:
        product.match_lines = [lines[compound_id] for compound_id in page[product.pk]]


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def mg(value: Decimal) -> str:
    return decimal_text(value, 0)


def daily_mg(value: Decimal) -> str:
    """A daily amount as the product's ``elemental_mg_per_day`` shows it (one decimal), so a
    sentence never calls 199.9 mg "200 mg ... below 200 mg"."""
    return decimal_text(value, MG_PLACES)


def best_links(product: Product) -> dict[str, tuple[Decimal, CompoundIndication]]:
    """Per asked indication slug the strongest link among the product's compounds.

    Equal strengths go to the better grade letter, then to the compound slug, so the reason
    named is always the same one.
    """
    candidates = {}
    for line in product.match_lines:
        for link in line.asked_evidence:
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


def effective_range_mg() -> tuple[Decimal, Decimal]:
    return match_weights.DOSE_CURVE[1][0], match_weights.DOSE_CURVE[2][0]


def dose_position(per_day: Decimal) -> str:
    """Where a daily amount lies against the effective range: below, within or above."""
    low, high = effective_range_mg()
    return "below" if per_day < low else "above" if per_day > high else "within"


def dose_reasons(product: Product, request: MatchRequest) -> list[str]:
    per_day = product.elemental_mg_per_day
    low, high = effective_range_mg()
    where = dose_position(per_day)
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


def worst_line(product: Product) -> MatchLine:
    return min(
        product.match_lines,
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


def evidence_facts(link: CompoundIndication) -> dict:
    """The evidence sentence's facts, for a client that renders its own text."""
    return {
        "indication": link.indication.slug,
        "compound": link.compound.slug,
        "grade": link.grade,
        "basis": link.basis,
        "carrier": link.compound.carrier.slug,
        "status": link.status,
        "references": [reference.key for reference in link.references.all()],
    }


def figures(product: Product, request: MatchRequest, euro_per_100mg: Decimal | None) -> dict:
    """The numbers of the dose, headroom, tolerability and price sentences, unrounded:
    products.api.match rounds them as the sentences print them."""
    per_day = product.elemental_mg_per_day
    low, high = effective_range_mg()
    limit = request.limit.amount_mg if request.limit is not None else None
    worst = worst_line(product).compound
    return {
        "elemental_mg_per_day": per_day,
        "effective_range_mg": [low, high],
        "dose_position": dose_position(per_day),
        "jurisdiction": request.jurisdiction,
        "population": request.population.slug if request.population else "adult",
        "upper_limit_set": request.limit is not None,
        "upper_limit_mg": limit,
        "percent_of_upper_limit": None if not limit else per_day * 100 / limit,
        "upper_limit_exceeded": None if limit is None else per_day > limit,
        "laxative_tendency": worst.laxative_tendency,
        "laxative_compound": worst.slug,
        "euro_per_100mg_elemental": euro_per_100mg,
    }


def caution_warnings(request: MatchRequest) -> list[dict]:
    """The sourced cautions the request asked for (renal=severe), the same for every result."""
    return [
        {
            "code": "renal_impairment",
            "message": f"{caution['name']}: {caution['advice']} "
            f"({', '.join(reference['key'] for reference in caution['references'])}; "
            f"{caution['status']})",
        }
        for caution in request.cautions
    ]


def limit_warnings(product: Product, request: MatchRequest) -> list[dict]:
    limit = request.limit
    if limit is None:
        if request.population is None:
            return []
        return [
            {
                "code": "no_upper_limit",
                "message": no_limit_text(request.population, request.jurisdiction),
            }
        ]
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
                        "{mg} mg, more than half the {body} upper limit of {limit} mg. The advice "
                        "to split comes from the German BfR, not from the limit itself.",
                        "nl": "Verdeel de dagelijkse hoeveelheid over minstens twee innames: één "
                        "portie geeft {mg} mg, meer dan de helft van de {body}-bovengrens van "
                        "{limit} mg. Het advies om te splitsen komt van het Duitse BfR, niet van "
                        "de bovengrens zelf.",
                    },
                    mg=mg(product.elemental_mg_per_serving),
                    body=body,
                    limit=mg(limit_mg),
                ),
            }
        )
    return warnings


def medication_warnings(product: Product, request: MatchRequest) -> list[dict]:
    compounds = [line.compound for line in product.match_lines]
    applying = {
        rule.pk
        for compound in compounds
        for rule in rules_for_compound(compound, [rule for _subject, rule in request.rules])
    }
    warnings = []
    for subject, rule in request.rules:
        if rule.pk not in applying:
            continue
        spacing = rule_text(rule, subject)
        code = "medication_check_label" if rule.check_label else WARNING_FOR_ACTION[rule.action]
        text = (
            sentence(spacing) + "."
            if spacing
            else f"{sentence(subject)}: {localized(rule, 'advice')}"
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
        for line in product.match_lines
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
    lines = product.match_lines
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
    every_link = [link for line in lines for link in line.asked_evidence]
    warnings = [
        *limit_warnings(product, request),
        *caution_warnings(request),
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
        "evidence": [evidence_facts(link) for link in links],
        "figures": figures(product, request, euro_per_100mg),
        "warnings": warnings,
    }
