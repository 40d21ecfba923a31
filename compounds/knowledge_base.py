"""Loads compounds.csv and compounds.yaml: compound forms, carriers, evidence and rules.

compounds.csv is the sourced chemistry table, kept as the reference gives it; its typed-in
molar mass and percentage columns are not loaded (they are derived from the formula, and a
test compares the two). compounds.yaml adds the curated facts the CSV does not hold.
"""

import csv

from django.db import transaction

from compounds.models import (
    Carrier,
    CarrierEffect,
    CompoundForm,
    CompoundIndication,
    InteractionRule,
    InteractionRuleCitation,
    SupplementRule,
    SupplementRuleCitation,
)
from formulary.common.loading import (
    FIXTURES_DIR,
    LoadError,
    pick,
    read_yaml,
    resolve,
    save_validated,
    upsert,
)
from formulary.knowledge_base import load_formulary

COMPOUNDS_CSV = FIXTURES_DIR / "compounds.csv"
COMPOUNDS_FILE = FIXTURES_DIR / "compounds.yaml"

CURATED_COMPOUND_FIELDS = (
    "carrier",
    "solubility_term",
    "solubility_status",
    "chemistry_status",
    "stomach_acid_status",
    "laxative_status",
    "bioavailability_status",
    "bioavailability_notes_nl",
    "bioavailability_notes_en",
    "typical_uses_nl",
    "time_of_day",
    "food_relation",
    "default_spacing_hours",
    "intake_status",
    "intake_note_nl",
    "intake_note_en",
    "references",
)
EVIDENCE_FIELDS = (
    "compound",
    "indication",
    "grade",
    "basis",
    "rationale_nl",
    "rationale_en",
    "status",
    "references",
)
RULE_FIELDS = (
    "medication",
    "mechanism",
    "drug_before_mg_hours",
    "drug_after_mg_hours",
    "severity",
    "check_label",
    "compounds",
    "advice_nl",
    "advice_en",
    "status",
    "references",
)
EFFECT_FIELDS = ("text_nl", "text_en", "indications", "status", "references")
RULE_CITATION_FIELDS = ("key", "before", "after", "stated")
SUPPLEMENT_RULE_FIELDS = (
    "nutrient",
    "mechanism",
    "supplement_before_mg_hours",
    "supplement_after_mg_hours",
    "minimum_daily_amount",
    "check_label",
    "advice_nl",
    "advice_en",
    "status",
    "references",
)


def cite_supplement_rule(rule: SupplementRule, rows: list, references: dict, *, where: str):
    """A supplement rule's sources, each with the window it states, as ``cite_rule``."""
    kept = []
    for j, row in enumerate(rows):
        citation_where = f"{where}: references[{j}]"
        fields = pick(
            row if isinstance(row, dict) else {"key": row},
            RULE_CITATION_FIELDS,
            where=citation_where,
        )
        (reference,) = resolve(references, [fields["key"]], kind="reference", where=citation_where)
        kept.append(
            upsert(
                SupplementRuleCitation,
                lookup={"rule": rule, "reference": reference},
                values={
                    "stated_supplement_before_mg_hours": fields.get("before"),
                    "stated_supplement_after_mg_hours": fields.get("after"),
                    "stated": fields.get("stated"),
                },
                where=citation_where,
            ).pk
        )
    SupplementRuleCitation.objects.filter(rule=rule).exclude(pk__in=kept).delete()


def cite_rule(rule: InteractionRule, rows: list, references: dict, *, where: str) -> None:
    """A rule's sources, each with the window it states (``before``/``after`` hours)."""
    kept = []
    for j, row in enumerate(rows):
        citation_where = f"{where}: references[{j}]"
        fields = pick(
            row if isinstance(row, dict) else {"key": row},
            RULE_CITATION_FIELDS,
            where=citation_where,
        )
        (reference,) = resolve(references, [fields["key"]], kind="reference", where=citation_where)
        kept.append(
            upsert(
                InteractionRuleCitation,
                lookup={"rule": rule, "reference": reference},
                values={
                    "stated_drug_before_mg_hours": fields.get("before"),
                    "stated_drug_after_mg_hours": fields.get("after"),
                    "stated": fields.get("stated"),
                },
                where=citation_where,
            ).pk
        )
    InteractionRuleCitation.objects.filter(rule=rule).exclude(pk__in=kept).delete()


def unwrap(text: str) -> str:
    """'(idealised)' -> 'idealised'; text not wholly in parentheses stays as it is."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        return text[1:-1].strip()
    return text


def csv_values(row: dict) -> dict:
    """The CSV row as model fields, plus the hydrate the CSV states, to check against."""
    formula, _, formula_note = row["formula"].partition(" ")
    hydrate_word, _, hydrate_note = row["hydrate"].partition(" ")
    return {
        "name_en": row["name_en"],
        "name_nl": row["name_nl"],
        "formula": formula,
        "formula_note": unwrap(formula_note),
        "hydrate_note": unwrap(hydrate_note),
        "classification": row["classification"],
        "solubility_source_text": row["water_solubility_qualitative"],
        "solubility_g_per_l": row["water_solubility_g_per_l"] or None,
        "needs_stomach_acid": row["needs_stomach_acid"],
        "laxative_tendency": row["laxative_effect"],
        "typical_uses_en": row["typical_uses"],
        "sources_note": row["sources"],
        "_stated_hydrate": hydrate_word.rstrip(";,"),
    }


@transaction.atomic
def load_knowledge_base(report=print) -> None:
    """Upsert the whole knowledge base in one transaction: all of it loads, or none."""
    lookups = load_formulary(report)
    references, indications = lookups["references"], lookups["indications"]
    data = read_yaml(COMPOUNDS_FILE)
    name = COMPOUNDS_FILE.name

    carriers = {}
    for i, row in enumerate(data.get("carriers") or []):
        where = f"{name}: carriers[{i}] ({row.get('slug')})"
        values = pick(row, ("slug", "name_nl", "name_en", "effects"), where=where)
        effects = values.pop("effects", None) or []
        carrier = upsert(Carrier, lookup={"slug": values.pop("slug")}, values=values, where=where)
        # Effects have no natural key: the file is the whole truth for its carrier.
        carrier.effects.all().delete()
        for j, effect_row in enumerate(effects):
            effect_where = f"{where}: effects[{j}]"
            effect_values = pick(effect_row, EFFECT_FIELDS, where=effect_where)
            linked = resolve(
                indications,
                effect_values.pop("indications", []),
                kind="indication",
                where=effect_where,
            )
            cited = resolve(
                references,
                effect_values.pop("references", []),
                kind="reference",
                where=effect_where,
            )
            effect = save_validated(
                CarrierEffect(carrier=carrier, **effect_values), where=effect_where
            )
            effect.indications.set(linked)
            effect.references.set(cited)
        carriers[carrier.slug] = carrier
    report(f"  carriers: {len(carriers)}")

    curated = data.get("compounds") or {}
    with COMPOUNDS_CSV.open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    unlisted = sorted(set(curated) - {row["slug"] for row in csv_rows})
    if unlisted:
        raise LoadError(f"{name}: compounds not in {COMPOUNDS_CSV.name}: {', '.join(unlisted)}.")
    compounds = {}
    for line, row in enumerate(csv_rows, start=2):
        slug = row["slug"]
        where = f"{COMPOUNDS_CSV.name}: line {line} ({slug})"
        if slug not in curated:
            raise LoadError(f"{where}: no curated entry under 'compounds' in {name}.")
        values = csv_values(row)
        stated_hydrate = values.pop("_stated_hydrate")
        extra = pick(curated[slug], CURATED_COMPOUND_FIELDS, where=f"{name}: compounds.{slug}")
        cited = resolve(references, extra.pop("references", []), kind="reference", where=where)
        (values["carrier"],) = resolve(
            carriers, [extra.pop("carrier")], kind="carrier", where=where
        )
        compound = upsert(
            CompoundForm, lookup={"slug": slug}, values={**values, **extra}, where=where
        )
        if compound.hydrate != stated_hydrate:
            raise LoadError(
                f"{where}: the formula {compound.formula} is the {compound.hydrate}, "
                f"but the hydrate column says {stated_hydrate}."
            )
        compound.references.set(cited)
        compounds[slug] = compound
    report(f"  compound forms: {len(compounds)}")

    for i, row in enumerate(data.get("evidence") or []):
        where = f"{name}: evidence[{i}] ({row.get('compound')} → {row.get('indication')})"
        values = pick(row, EVIDENCE_FIELDS, where=where)
        cited = resolve(references, values.pop("references", []), kind="reference", where=where)
        lookup = {
            "compound": resolve(compounds, [values.pop("compound")], kind="compound", where=where)[
                0
            ],
            "indication": resolve(
                indications, [values.pop("indication")], kind="indication", where=where
            )[0],
        }
        upsert(CompoundIndication, lookup=lookup, values=values, where=where).references.set(cited)
    report(f"  evidence links: {len(data.get('evidence') or [])}")

    for i, row in enumerate(data.get("interaction_rules") or []):
        where = f"{name}: interaction_rules[{i}] ({row.get('medication')})"
        values = pick(row, RULE_FIELDS, where=where)
        cited = values.pop("references", None) or []
        restricted = resolve(compounds, values.pop("compounds", []), kind="compound", where=where)
        lookup = {
            "medication": resolve(
                lookups["medications"], [values.pop("medication")], kind="medication", where=where
            )[0],
            "mechanism": values.pop("mechanism"),
        }
        rule = upsert(InteractionRule, lookup=lookup, values=values, where=where)
        cite_rule(rule, cited, references, where=where)
        rule.compounds.set(restricted)
    report(f"  interaction rules: {len(data.get('interaction_rules') or [])}")

    for i, row in enumerate(data.get("supplement_rules") or []):
        where = f"{name}: supplement_rules[{i}] ({row.get('nutrient')})"
        values = pick(row, SUPPLEMENT_RULE_FIELDS, where=where)
        cited = values.pop("references", None) or []
        lookup = {
            "nutrient": resolve(
                lookups["nutrients"], [values.pop("nutrient")], kind="nutrient", where=where
            )[0],
            "mechanism": values.pop("mechanism"),
        }
        rule = upsert(SupplementRule, lookup=lookup, values=values, where=where)
        cite_supplement_rule(rule, cited, references, where=where)
    report(f"  supplement rules: {len(data.get('supplement_rules') or [])}")
