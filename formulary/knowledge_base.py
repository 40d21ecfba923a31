"""Loads the vocabulary part of the knowledge base from fixtures/formulary.yaml."""

from formulary.common.loading import (
    FIXTURES_DIR,
    LoadError,
    pick,
    read_yaml,
    resolve,
    upsert,
)
from formulary.health_claims import load_health_claims
from formulary.models import (
    Caution,
    DeficiencySign,
    Indication,
    Medication,
    MedicationCitation,
    Nutrient,
    NutrientUpperLimit,
    Population,
    Reference,
    ReferenceIntake,
    RiskGroup,
)

FORMULARY_FILE = FIXTURES_DIR / "formulary.yaml"

REFERENCE_FIELDS = ("key", "citation", "doi", "pmid", "url", "status", "note", "about_carrier")
NAMED_FIELDS = ("slug", "name_nl", "name_en")
INTAKE_FIELDS = (
    "jurisdiction",
    "kind",
    "sex",
    "life_stage",
    "age_from_months",
    "age_to_months",
    "amount_mg",
    "split_dose_advised",
    "status",
    "note_nl",
    "note_en",
    "references",
)
NOTED_FIELDS = ("status", "note_nl", "note_en", "indications", "references")
MEDICATION_FIELDS = (
    "slug",
    "kind",
    "parent",
    "name_nl",
    "name_en",
    "atc_code",
    "brand_names",
    "taken_alone_minutes",
    "references",
)
MEDICATION_CITATION_FIELDS = ("key", "alone_minutes", "stated")
POPULATION_FIELDS = ("life_stage", "age_from_months", "age_to_months", "is_default")
NUTRIENT_LIMIT_FIELDS = (
    "nutrient",
    "jurisdiction",
    "life_stage",
    "age_from_months",
    "age_to_months",
    "amount",
    "status",
    "note_nl",
    "note_en",
    "references",
)
CAUTION_FIELDS = ("advice_nl", "advice_en", "status", "references")


def load_medications(rows: list, references: dict, *, name: str) -> dict:
    """Classes, substances and combination products, parents first; each with its sources."""
    medications = {}
    for i, row in enumerate(rows):
        where = f"{name}: medications[{i}] ({row.get('slug')})"
        values = pick(row, MEDICATION_FIELDS, where=where)
        cited = values.pop("references", None) or []
        parent = values.pop("parent", None)
        if parent is not None and parent not in medications:
            raise LoadError(f"{where}: the parent {parent} is not listed above this row.")
        values["parent"] = medications.get(parent)
        values.setdefault("brand_names", [])
        values.setdefault("taken_alone_minutes", None)
        medication = upsert(
            Medication, lookup={"slug": values.pop("slug")}, values=values, where=where
        )
        # Citations carry what each source states: the file is the whole truth for its row.
        kept = []
        for j, citation in enumerate(cited):
            citation_where = f"{where}: references[{j}]"
            fields = pick(citation, MEDICATION_CITATION_FIELDS, where=citation_where)
            (reference,) = resolve(
                references, [fields["key"]], kind="reference", where=citation_where
            )
            kept.append(
                upsert(
                    MedicationCitation,
                    lookup={"medication": medication, "reference": reference},
                    values={
                        "stated_alone_minutes": fields.get("alone_minutes"),
                        "stated": fields.get("stated"),
                    },
                    where=citation_where,
                ).pk
            )
        MedicationCitation.objects.filter(medication=medication).exclude(pk__in=kept).delete()
        medications[medication.slug] = medication
    return medications


def load_formulary(report=print) -> dict[str, dict]:
    """Upsert every vocabulary row; returns the lookups the higher layers resolve against."""
    data = read_yaml(FORMULARY_FILE)
    name = FORMULARY_FILE.name

    references = {}
    for i, row in enumerate(data.get("references") or []):
        where = f"{name}: references[{i}] ({row.get('key')})"
        values = pick(row, REFERENCE_FIELDS, where=where)
        references[row["key"]] = upsert(
            Reference, lookup={"key": values.pop("key")}, values=values, where=where
        )
    report(f"  references: {len(references)}")

    def load_named(section, model, extra_fields=()):
        rows = {}
        for i, row in enumerate(data.get(section) or []):
            where = f"{name}: {section}[{i}] ({row.get('slug')})"
            values = pick(row, NAMED_FIELDS + extra_fields, where=where)
            rows[row["slug"]] = upsert(
                model, lookup={"slug": values.pop("slug")}, values=values, where=where
            )
        report(f"  {section}: {len(rows)}")
        return rows

    indications = load_named("indications", Indication, ("description_nl", "description_en"))
    nutrients = load_named("nutrients", Nutrient, ("unit",))
    medications = load_medications(data.get("medications") or [], references, name=name)
    report(f"  medications: {len(medications)}")

    intakes = 0
    for i, row in enumerate(data.get("reference_intakes") or []):
        where = f"{name}: reference_intakes[{i}]"
        values = pick(row, INTAKE_FIELDS, where=where)
        cited = resolve(references, values.pop("references", []), kind="reference", where=where)
        lookup = {
            f: values.pop(f)
            for f in ("jurisdiction", "kind", "sex", "life_stage", "age_from_months")
        }
        intake = upsert(ReferenceIntake, lookup=lookup, values=values, where=where)
        intake.references.set(cited)
        intakes += 1
    report(f"  reference intakes: {intakes}")

    # The default moves with the file: clear it first, so the one-default constraint holds
    # whichever row carries it now.
    Population.objects.filter(is_default=True).update(is_default=False)
    populations = load_named("populations", Population, POPULATION_FIELDS)
    if sum(population.is_default for population in populations.values()) != 1:
        raise LoadError(f"{name}: populations: exactly one population is the default.")

    for i, row in enumerate(data.get("nutrient_upper_limits") or []):
        where = f"{name}: nutrient_upper_limits[{i}] ({row.get('nutrient')})"
        values = pick(row, NUTRIENT_LIMIT_FIELDS, where=where)
        cited = resolve(references, values.pop("references", []), kind="reference", where=where)
        (nutrient,) = resolve(nutrients, [values.pop("nutrient")], kind="nutrient", where=where)
        lookup = {"nutrient": nutrient} | {
            f: values.pop(f) for f in ("jurisdiction", "life_stage", "age_from_months")
        }
        upsert(NutrientUpperLimit, lookup=lookup, values=values, where=where).references.set(cited)
    report(f"  nutrient upper limits: {len(data.get('nutrient_upper_limits') or [])}")

    for i, row in enumerate(data.get("cautions") or []):
        where = f"{name}: cautions[{i}] ({row.get('slug')})"
        values = pick(row, NAMED_FIELDS + CAUTION_FIELDS, where=where)
        cited = resolve(references, values.pop("references", []), kind="reference", where=where)
        upsert(
            Caution, lookup={"slug": values.pop("slug")}, values=values, where=where
        ).references.set(cited)
    report(f"  cautions: {len(data.get('cautions') or [])}")

    for section, model, extra in (
        ("risk_groups", RiskGroup, ("support",)),
        ("deficiency_signs", DeficiencySign, ("kind",)),
    ):
        count = 0
        for i, row in enumerate(data.get(section) or []):
            where = f"{name}: {section}[{i}] ({row.get('slug')})"
            values = pick(row, NAMED_FIELDS + extra + NOTED_FIELDS, where=where)
            linked = resolve(
                indications, values.pop("indications", []), kind="indication", where=where
            )
            cited = resolve(references, values.pop("references", []), kind="reference", where=where)
            instance = upsert(
                model, lookup={"slug": values.pop("slug")}, values=values, where=where
            )
            instance.indications.set(linked)
            instance.references.set(cited)
            count += 1
        report(f"  {section.replace('_', ' ')}: {count}")

    load_health_claims(references=references, nutrients=nutrients, report=report)

    return {
        "references": references,
        "indications": indications,
        "nutrients": nutrients,
        "medications": medications,
    }
