"""Loads fixtures/claims.yaml: the EU-authorised health claims and their "source of" rules."""

from decimal import Decimal

from formulary.common.loading import FIXTURES_DIR, LoadError, pick, read_yaml, resolve, upsert
from formulary.enums import ClaimNutrient
from formulary.models import HealthClaim, Reference, SourceOfRule
from formulary.selectors import adult_nrv_mg

CLAIMS_FILE = FIXTURES_DIR / "claims.yaml"

REFERENCE_FIELDS = ("key", "citation", "doi", "pmid", "url", "status", "note", "about_carrier")
RULE_FIELDS = (
    "nutrient",
    "nrv_mg",
    "minimum_percent_of_nrv",
    "rule_status",
    "basis",
    "basis_status",
    "basis_note_nl",
    "basis_note_en",
    "condition_nl",
    "condition_nl_status",
    "condition_en",
    "condition_en_status",
    "references",
)
CLAIM_FIELDS = (
    "slug",
    "nutrient",
    "efsa_ids",
    "text_nl",
    "text_nl_status",
    "text_en",
    "text_en_status",
    "note_nl",
    "note_en",
    "references",
)


def load_health_claims(*, references: dict, nutrients: dict, report=print) -> None:
    """Upsert the claims file; ``references`` and ``nutrients`` are formulary.yaml's, by key.

    A claim missing from the file is deleted: a claim the register withdrew must not be served.
    """
    data = read_yaml(CLAIMS_FILE)
    name = CLAIMS_FILE.name
    references = dict(references)
    for i, row in enumerate(data.get("references") or []):
        where = f"{name}: references[{i}] ({row.get('key')})"
        values = pick(row, REFERENCE_FIELDS, where=where)
        references[row["key"]] = upsert(
            Reference, lookup={"key": values.pop("key")}, values=values, where=where
        )

    rules = {}
    for i, row in enumerate(data.get("source_of_rules") or []):
        where = f"{name}: source_of_rules[{i}] ({row.get('nutrient')})"
        values = pick(row, RULE_FIELDS, where=where)
        cited = resolve(references, values.pop("references", []), kind="reference", where=where)
        nutrient = values.pop("nutrient")
        check_rule_nutrient(nutrient, values, nutrients, where=where)
        rule = upsert(SourceOfRule, lookup={"nutrient": nutrient}, values=values, where=where)
        rule.references.set(cited)
        rules[nutrient] = rule
    report(f"  source-of rules: {len(rules)}")

    slugs = []
    for i, row in enumerate(data.get("claims") or []):
        where = f"{name}: claims[{i}] ({row.get('slug')})"
        values = pick(row, CLAIM_FIELDS, where=where)
        cited = resolve(references, values.pop("references", []), kind="reference", where=where)
        (values["rule"],) = resolve(
            rules, [values.pop("nutrient")], kind="source-of rule for nutrient", where=where
        )
        claim = upsert(HealthClaim, lookup={"slug": values.pop("slug")}, values=values, where=where)
        claim.references.set(cited)
        slugs.append(claim.slug)
    HealthClaim.objects.exclude(slug__in=slugs).delete()
    report(f"  health claims: {len(slugs)}")


def check_rule_nutrient(nutrient: str, values: dict, nutrients: dict, *, where: str) -> None:
    """A rule's nutrient must be one the products can state, with one NRV wherever it is held.

    Magnesium's NRV is also a reference intake (formulary.yaml); the two must agree, or the
    product's "% of the NRV" and its claim verdict would disagree.
    """
    if nutrient == ClaimNutrient.MAGNESIUM:
        intake_nrv = adult_nrv_mg()
        if intake_nrv is not None and Decimal(str(values.get("nrv_mg"))) != intake_nrv:
            raise LoadError(
                f"{where}: nrv_mg {values.get('nrv_mg')} differs from the EU adult NRV "
                f"reference intake ({intake_nrv} mg)."
            )
    elif nutrient not in nutrients:
        raise LoadError(f"{where}: unknown nutrient {nutrient}.")
