"""The knowledge base: complete, valid, sourced, and honest about what is unverified."""

import csv
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import translation

from compounds import knowledge_base
from compounds.models import CompoundForm, CompoundIndication, InteractionRule
from formulary.common.loading import FIXTURES_DIR, LoadError
from formulary.models import (
    DeficiencySign,
    Indication,
    Medication,
    Reference,
    ReferenceIntake,
)

pytestmark = pytest.mark.django_db

VOCABULARY = FIXTURES_DIR.parent.parent / "shared/reference/vocabulary.md"


def vocabulary_slugs(heading: str) -> set[str]:
    """The backticked slugs of one section of the shared vocabulary, when it is present."""
    if not VOCABULARY.exists():
        pytest.skip("../shared/reference/vocabulary.md is not beside this checkout")
    text = VOCABULARY.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z0-9-]+)`", section))


def data_models(app: str):
    """The app's models without their audit history (records of past states, not data)."""
    return [
        model
        for model in apps.get_app_config(app).get_models()
        if not model._meta.model_name.startswith("historical")
    ]


def all_rows():
    for app in ("formulary", "compounds", "products"):
        for model in data_models(app):
            yield from model.objects.all()


def test_every_loaded_row_passes_full_clean():
    checked = 0
    for row in all_rows():
        row.full_clean()
        checked += 1
    assert checked > 500


def test_every_compound_of_the_csv_is_loaded():
    with (FIXTURES_DIR / "compounds.csv").open(encoding="utf-8") as handle:
        slugs = {row["slug"] for row in csv.DictReader(handle)}

    assert set(CompoundForm.objects.values_list("slug", flat=True)) == slugs


def test_indications_and_medications_are_the_vocabulary_slugs():
    assert set(Indication.objects.values_list("slug", flat=True)) == vocabulary_slugs("Indications")
    assert set(Medication.objects.values_list("slug", flat=True)) == vocabulary_slugs(
        "Medications (drugs and drug classes)"
    )


def test_every_medication_has_a_rule():
    assert not Medication.objects.filter(interaction_rules__isnull=True).exists()


def test_spacing_is_stored_with_its_direction():
    def hours(slug):
        rule = InteractionRule.objects.get(
            medication__slug=slug, mechanism__in=["chelation", "absorption"]
        )
        return rule.drug_before_mg_hours, rule.drug_after_mg_hours

    assert hours("fluoroquinolones") == (Decimal("2"), Decimal("6"))
    assert hours("tetracyclines") == (Decimal("2"), Decimal("6"))
    assert hours("levothyroxine") == (Decimal("4"), Decimal("4"))
    assert hours("dolutegravir") == (Decimal("2"), Decimal("6"))
    assert hours("gabapentin") == (None, Decimal("2"))


def test_unverified_integrase_inhibitors_send_the_pharmacist_to_the_label():
    rule = InteractionRule.objects.get(medication__slug="integrase-inhibitors-other")

    assert (rule.check_label, rule.status) == (True, "unverified")
    assert (rule.drug_before_mg_hours, rule.drug_after_mg_hours) == (None, None)


def test_depletion_and_retention_rules_call_for_monitoring_and_caution():
    assert (
        InteractionRule.objects.get(medication__slug="proton-pump-inhibitors").action
        == "monitoring"
    )
    assert InteractionRule.objects.get(medication__slug="loop-diuretics").action == "monitoring"
    assert (
        InteractionRule.objects.get(medication__slug="potassium-sparing-diuretics").action
        == "caution"
    )
    assert (
        InteractionRule.objects.get(medication__slug="calcium-channel-blockers").action
        == "information"
    )


def test_disputed_and_unverified_facts_stay_marked():
    taurate = CompoundForm.objects.get(slug="magnesium-taurate")
    assert taurate.solubility_status == "disputed"
    assert Reference.objects.get(key="SCHAFFER2010").status == "unverified"
    assert CompoundForm.objects.get(slug="magnesium-pidolate").solubility_term == ""
    assert CompoundForm.objects.get(slug="magnesium-pidolate").solubility_status == "unverified"


def test_carrier_papers_never_carry_a_magnesium_based_link_alone():
    for link in CompoundIndication.objects.filter(basis="magnesium").prefetch_related("references"):
        references = list(link.references.all())
        assert not references or not all(ref.about_carrier for ref in references), str(link)


def test_seed_recommendations_are_graded_as_practice_recommendations():
    link = CompoundIndication.objects.get(
        compound__slug="magnesium-taurate", indication__slug="heart-vessels"
    )
    assert (link.grade, link.basis) == ("D", "carrier")


def test_upper_limits_are_data_with_their_age_bands():
    def limit(jurisdiction, age_from_months):
        return ReferenceIntake.objects.get(
            jurisdiction=jurisdiction,
            kind="upper_limit",
            age_from_months=age_from_months,
            sex="any",
            life_stage="general",
        )

    eu = limit("eu", 48)
    assert (eu.amount_mg, eu.age_to_months, eu.split_dose_advised) == (Decimal("250"), None, True)
    assert limit("us", 108).amount_mg == Decimal("350")
    assert limit("us", 12).amount_mg == Decimal("65")
    assert limit("us", 48).amount_mg == Decimal("110")
    assert not ReferenceIntake.objects.filter(
        jurisdiction="eu", kind="upper_limit", age_from_months__lt=48
    ).exists()
    nrv = ReferenceIntake.objects.get(jurisdiction="eu", kind="nrv")
    assert nrv.amount_mg == Decimal("375")


def test_cardiovascular_disease_and_diabetes_are_associations_not_signs():
    associations = set(
        DeficiencySign.objects.filter(kind="association").values_list("name_en", flat=True)
    )
    assert any("ardiovascular" in name for name in associations)
    assert any("iabetes" in name for name in associations)


def test_every_reference_with_a_pmid_or_doi_is_well_formed():
    for reference in Reference.objects.all():
        reference.full_clean()
    assert Reference.objects.exclude(doi="").count() >= 30


def test_load_knowledge_base_twice_changes_nothing():
    counts = {m.__name__: m.objects.count() for m in data_models("compounds")}

    knowledge_base.load_knowledge_base(report=lambda *_: None)

    assert {m.__name__: m.objects.count() for m in data_models("compounds")} == counts


def test_a_bad_row_in_the_data_files_loads_nothing(tmp_path, monkeypatch):
    broken = tmp_path / "compounds.yaml"
    text = (FIXTURES_DIR / "compounds.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("grade: D", "grade: E", 1), encoding="utf-8")
    monkeypatch.setattr(knowledge_base, "COMPOUNDS_FILE", broken)
    Reference.objects.filter(key="NOAH2021").update(citation="edited before the load")

    with pytest.raises(LoadError) as raised, translation.override("en"):
        knowledge_base.load_knowledge_base(report=lambda *_: None)

    assert str(raised.value) == (
        "compounds.yaml: evidence[0] (magnesium-bisglycinate → stress): "
        "grade: Value 'E' is not a valid choice."
    )
    assert Reference.objects.get(key="NOAH2021").citation == "edited before the load"
