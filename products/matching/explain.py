"""Score, reasons and warnings for one page of match results, in the request language.

The database ranked the products (products/matching/ranking.py); this module recomputes each
one's factors with products/matching/score.py so a result explains its own score.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal

from compounds.advice import rule_text
from compounds.enums import EvidenceBasis, InteractionAction, LaxativeTendency
from compounds.models import CompoundForm, CompoundIndication, InteractionRule
from compounds.selectors import rules_for_compound
from formulary.citations import short_citation
from formulary.common.catalogue_version import kept_per_version
from formulary.common.localization import current_language
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


class Wording:
    """The texts of one request: its language, read once (each read costs microseconds, and a
    page of results has hundreds of texts), and each number as its sentences write it."""

    def __init__(self, language: str | None = None):
        self.language = language or current_language()
        self.numbers: dict[tuple[Decimal, int], str] = {}

    def text(self, texts: dict[str, str], **values) -> str:
        """As formulary.common.localization.translated, in this request's language."""
        return texts[self.language].format(**values)

    def name(self, instance, field: str = "name") -> str:
        """As formulary.common.localization.localized, in this request's language."""
        return getattr(instance, f"{field}_{self.language}")

    def number(self, value: Decimal, places: int) -> str:
        key = (value, places)
        if key not in self.numbers:
            self.numbers[key] = decimal_text(value, places)
        return self.numbers[key]

    def mg(self, value: Decimal) -> str:
        return self.number(value, 0)

    def daily_mg(self, value: Decimal) -> str:
        """A daily amount as the product's ``elemental_mg_per_day`` shows it (one decimal), so
        a sentence never calls 199.9 mg "200 mg ... below 200 mg"."""
        return self.number(value, MG_PLACES)


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
    wording: Wording = field(default_factory=Wording)
    """The request language (the one active when the request was built) and its numbers."""


@dataclass(frozen=True)
class MatchLine:
    """One ingredient line of a result as matching reads it: the compound (with its carrier),
    and its evidence links for the asked indications."""

    compound: CompoundForm
    asked_evidence: tuple[CompoundIndication, ...]


def build_compound_forms_of(ids=None) -> dict[int, CompoundForm]:
    """The compounds (of ``ids``, or all) with their carriers, by id."""
    compounds = CompoundForm.objects.select_related("carrier")
    if ids is not None:
        compounds = compounds.filter(pk__in=ids)
    return {compound.pk: compound for compound in compounds}


# The compounds with their carriers, kept per knowledge version as the knowledge base is
# (products.knowledge): a page's lines then need only their compound ids. Shared: read only.
compound_forms = kept_per_version(build_compound_forms_of)


def page_compound_ids(products: list[Product]) -> dict[int, list[int]]:
    """Per product id its lines' compound ids in line order: from the ranking's
    ``line_compounds`` (products.matching.ranking) where it brought them, else one query."""
    if all(hasattr(product, LINE_COMPOUNDS) for product in products):
        return {
            product.pk: [line[0] for line in json.loads(getattr(product, LINE_COMPOUNDS) or "[]")]
            for product in products
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
    missing = {i for ids in page.values() for i in ids} - compounds.keys()
    if missing:  # a compound created since the snapshot's version was read: not kept yet
        compounds = {**compounds, **build_compound_forms_of(missing)}
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


# An evidence link's sentence and facts depend only on the knowledge base and the language,
# not on the product: made once per knowledge version and process, where a page of results
# made them for every result (a tenth of an uncached match's Python). Shared: read only.
link_wordings = kept_per_version(dict)


def evidence_reason(link: CompoundIndication, wording: Wording) -> str:
    kept = link_wordings()
    key = ("reason", link.pk, wording.language)
    if key not in kept:
        kept[key] = link_sentence(link, wording)
    return kept[key]


def link_sentence(link: CompoundIndication, wording: Wording) -> str:
    compound = link.compound
    carrier_based = link.basis == EvidenceBasis.CARRIER
    citations = [short_citation(reference) for reference in link.references.all()]
    return wording.text(
        {
            "en": "{compound}: {subject} for {indication} (evidence {grade}, {basis}; {sources})",
            "nl": "{compound}: {subject} bij {indication} (bewijs {grade}, {basis}; {sources})",
        },
        compound=wording.name(compound),
        subject=wording.name(compound.carrier).lower() if carrier_based else "magnesium",
        indication=wording.name(link.indication).lower(),
        grade=link.grade,
        basis=wording.text(
            {"en": "carrier-based", "nl": "op basis van de drager"}
            if carrier_based
            else {"en": "magnesium-based", "nl": "op basis van magnesium"}
        ),
        sources=", ".join(citations) or wording.text({"en": "no source cited", "nl": "geen bron"}),
    )


def effective_range_mg() -> tuple[Decimal, Decimal]:
    return match_weights.DOSE_CURVE[1][0], match_weights.DOSE_CURVE[2][0]


def dose_position(per_day: Decimal) -> str:
    """Where a daily amount lies against the effective range: below, within or above."""
    low, high = effective_range_mg()
    return "below" if per_day < low else "above" if per_day > high else "within"


def dose_reasons(product: Product, request: MatchRequest) -> list[str]:
    wording = request.wording
    per_day = product.elemental_mg_per_day
    low, high = effective_range_mg()
    where = dose_position(per_day)
    reasons = [
        wording.text(
            {
                "en": "{mg} mg elemental magnesium a day is {where} the effective range of "
                "{low}-{high} mg",
                "nl": "{mg} mg elementair magnesium per dag ligt {where} het werkzame bereik van "
                "{low}-{high} mg",
            },
            mg=wording.daily_mg(per_day),
            low=wording.mg(low),
            high=wording.mg(high),
            where=wording.text(
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
            wording.text(
                {
                    "en": "{mg} mg elemental magnesium a day is {where} the {body} supplemental "
                    "upper limit of {limit} mg",
                    "nl": "{mg} mg elementair magnesium per dag ligt {where} de {body}-bovengrens "
                    "voor supplementen van {limit} mg",
                },
                mg=wording.daily_mg(per_day),
                body=request.jurisdiction.upper(),
                limit=wording.mg(request.limit.amount_mg),
                where=wording.text(
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


def tolerability_reason(product: Product, wording: Wording) -> str:
    compound = worst_line(product).compound
    return wording.text(
        {
            "en": "Laxative tendency {tendency} ({compound})",
            "nl": "Laxerende werking {tendency} ({compound})",
        },
        tendency=wording.text(TENDENCY_TEXT[compound.laxative_tendency]),
        compound=wording.name(compound),
    )


def price_reason(euro_per_100mg: Decimal | None, wording: Wording) -> str:
    if euro_per_100mg is None:
        return wording.text({"en": "No price known", "nl": "Geen prijs bekend"})
    return wording.text(
        {
            "en": "€{price} per 100 mg elemental magnesium",
            "nl": "€ {price} per 100 mg elementair magnesium",
        },
        price=wording.number(euro_per_100mg, 2),
    )


def evidence_facts(link: CompoundIndication) -> dict:
    """The evidence sentence's facts, for a client that renders its own text."""
    kept = link_wordings()
    key = ("facts", link.pk)
    if key not in kept:
        kept[key] = link_facts(link)
    return kept[key]


def link_facts(link: CompoundIndication) -> dict:
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
    wording = request.wording
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
                "message": wording.text(
                    {
                        "en": "{mg} mg elemental magnesium a day exceeds the {body} supplemental "
                        "upper "
                        "limit of {limit} mg.",
                        "nl": "{mg} mg elementair magnesium per dag overschrijdt de "
                        "{body}-bovengrens "
                        "voor supplementen van {limit} mg.",
                    },
                    mg=wording.daily_mg(product.elemental_mg_per_day),
                    body=body,
                    limit=wording.mg(limit_mg),
                ),
            }
        )
    if limit.split_dose_advised and product.elemental_mg_per_serving > limit_mg / 2:
        warnings.append(
            {
                "code": "split_daily_dose",
                "message": wording.text(
                    {
                        "en": "Split the daily amount over at least two intakes: one serving gives "
                        "{mg} mg, more than half the {body} upper limit of {limit} mg. The advice "
                        "to split comes from the German BfR, not from the limit itself.",
                        "nl": "Verdeel de dagelijkse hoeveelheid over minstens twee innames: één "
                        "portie geeft {mg} mg, meer dan de helft van de {body}-bovengrens van "
                        "{limit} mg. Het advies om te splitsen komt van het Duitse BfR, niet van "
                        "de bovengrens zelf.",
                    },
                    mg=wording.mg(product.elemental_mg_per_serving),
                    body=body,
                    limit=wording.mg(limit_mg),
                ),
            }
        )
    return warnings


def medication_warnings(product: Product, request: MatchRequest) -> list[dict]:
    wording = request.wording
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
            else f"{sentence(subject)}: {wording.name(rule, 'advice')}"
        )
        warnings.append({"code": code, "message": text})
    return warnings


def laxative_warnings(product: Product, wording: Wording) -> list[dict]:
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
            "message": wording.text(
                {
                    "en": "{compound} has a {tendency} laxative tendency; at {mg} mg magnesium a "
                    "day "
                    "loose stools are likely.",
                    "nl": "{compound} werkt {tendency} laxerend; bij {mg} mg magnesium per dag is "
                    "dunne "
                    "ontlasting waarschijnlijk.",
                },
                compound=wording.name(compound),
                tendency=wording.text(TENDENCY_TEXT[tendency]),
                mg=wording.daily_mg(product.elemental_mg_per_day),
            ),
        }
    ]


def unverified_warnings(product: Product, links, wording: Wording) -> list[dict]:
    items = [
        wording.text(
            {
                "en": "evidence {compound} for {indication} ({status})",
                "nl": "bewijs {compound} bij {indication} ({status})",
            },
            compound=wording.name(link.compound),
            indication=wording.name(link.indication).lower(),
            status=link.status,
        )
        for link in links
        if link.status in DOUBTFUL
    ]
    items += [
        wording.text(
            {
                "en": "laxative tendency of {compound} ({status})",
                "nl": "laxerende werking van {compound} ({status})",
            },
            compound=wording.name(line.compound),
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
            "message": wording.text(
                {
                    "en": "Not verified in the sources: {items}.",
                    "nl": "Niet geverifieerd in de bronnen: {items}.",
                },
                items="; ".join(items),
            ),
        }
    ]


def explain(product: Product, request: MatchRequest) -> dict:
    wording = request.wording
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
    reasons = [evidence_reason(link, wording) for link in links] + [
        wording.text(
            {
                "en": "No compound in this product is linked to {indication}",
                "nl": "Geen vorm in dit product is gekoppeld aan {indication}",
            },
            indication=wording.name(indication).lower(),
        )
        for indication in request.indications
        if indication.slug not in best
    ]
    reasons += [
        *dose_reasons(product, request),
        tolerability_reason(product, wording),
        price_reason(euro_per_100mg, wording),
    ]
    every_link = [link for line in lines for link in line.asked_evidence]
    warnings = [
        *limit_warnings(product, request),
        *caution_warnings(request),
        *medication_warnings(product, request),
        *laxative_warnings(product, wording),
        *unverified_warnings(product, every_link, wording),
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
