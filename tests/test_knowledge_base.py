"""The knowledge base: complete, valid, sourced, and honest about what is unverified."""

import csv
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import translation

from compounds import knowledge_base
from compounds.enums import SPACING_MECHANISMS
from compounds.medications import build_medication_index, medication_search_terms
from compounds.models import (
    HOUR_FIGURE,
    CompoundForm,
    CompoundIndication,
    InteractionRule,
    SupplementRule,
)
from formulary.common.loading import FIXTURES_DIR, LoadError
from formulary.common.search import fold
from formulary.enums import MedicationKind
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


def test_indications_and_medications_keep_the_vocabulary_slugs():
    assert set(Indication.objects.values_list("slug", flat=True)) == vocabulary_slugs("Indications")
    # The classes of the vocabulary stay public slugs; substances and products come beside them.
    assert vocabulary_slugs("Medications (drugs and drug classes)") <= set(
        Medication.objects.values_list("slug", flat=True)
    )


def test_every_medication_has_a_rule_in_force():
    index = build_medication_index()

    assert [slug for slug, m in index.by_slug.items() if not index.rules_for(m)] == []


def test_every_substance_and_product_sits_under_its_class_or_substance():
    for medication in Medication.objects.select_related("parent"):
        if medication.kind == MedicationKind.COMBINATION:
            assert medication.parent.kind == MedicationKind.SUBSTANCE, medication.slug
        if medication.parent and medication.kind == MedicationKind.SUBSTANCE:
            assert medication.parent.kind == MedicationKind.CLASS, medication.slug


def test_every_rule_and_evidence_link_has_a_reference():
    rules = InteractionRule.objects.prefetch_related("references")
    links = CompoundIndication.objects.prefetch_related("references")

    assert [str(rule) for rule in rules if not rule.references.all()] == []
    assert [str(link) for link in links if not link.references.all()] == []


def strictest(values):
    """The most conservative of the windows the sources state in one direction."""
    stated = [value for value in values if value is not None]
    return max(stated) if stated else None


def test_every_rule_keeps_the_strictest_window_its_sources_state_in_both_directions():
    rules = InteractionRule.objects.select_related("medication").prefetch_related(
        "interactionrulecitation_set__reference"
    )
    checked = 0
    for rule in rules:
        citations = list(rule.interactionrulecitation_set.all())
        stated_before = [c.stated_drug_before_mg_hours for c in citations]
        stated_after = [c.stated_drug_after_mg_hours for c in citations]
        if rule.action != "spacing" or rule.check_label:
            # A rule without hours may not cite a source as if it gave a window.
            assert (rule.drug_before_mg_hours, rule.drug_after_mg_hours) == (None, None), str(rule)
            assert set(stated_before) | set(stated_after) <= {None}, str(rule)
            continue
        # Every spacing rule rests on at least one source that states a window ...
        assert any(
            b is not None or a is not None for b, a in zip(stated_before, stated_after, strict=True)
        )
        # ... and its hours are the strictest of them: no looser (a source would be ignored)
        # and no stricter (the hours would have no source), before and after magnesium.
        assert (rule.drug_before_mg_hours, rule.drug_after_mg_hours) == (
            strictest(stated_before),
            strictest(stated_after),
        ), str(rule)
        checked += 1
    assert checked >= 9


@pytest.mark.parametrize("model", [InteractionRule, SupplementRule])
def test_spacing_rule_texts_state_no_hours_of_their_own(model):
    # The window sentence is written from the structured hours; a figure in the advice text
    # could drift from them, as moxifloxacin's "4 h before or 8 h after" once did, and iron's
    # "3-4 hours" would have after an edit of its hours. clean() refuses one (test_invariants).
    rules = model.objects.filter(mechanism__in=SPACING_MECHANISMS)
    assert rules.exists()
    for rule in rules:
        assert HOUR_FIGURE.findall(rule.advice_en) == [], str(rule)
        assert HOUR_FIGURE.findall(rule.advice_nl) == [], str(rule)


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        ("keep 2 h apart", "2 h"),
        ("keep 3-4 hours from magnesium", "3-4 hours"),
        ("3\u20134 uur gescheiden", "3\u20134 uur"),  # an en dash
        ("minstens 1,5 uur ervoor", "1,5 uur"),
        ("at least 4h before", "4h"),
        ("two hours later", "two hours"),
        ("twee uur later", "twee uur"),
        ("tot 6 uren erna", "6 uren"),
    ],
)
def test_hour_figure_finds_the_hours_written_in_either_language(text, figure):
    assert [m.group() for m in HOUR_FIGURE.finditer(text)] == [figure]


@pytest.mark.parametrize(
    "text", ["142 mg per dag", "ten minste", "about 20 %", "once a day", "vitamine B6 heeft"]
)
def test_hour_figure_leaves_other_numbers_alone(text):
    assert HOUR_FIGURE.findall(text) == []


def test_taken_alone_minutes_are_the_longest_their_sources_state():
    medications = Medication.objects.prefetch_related("medicationcitation_set")
    alone = {m.slug: m for m in medications if m.taken_alone_minutes is not None}

    assert {slug: m.taken_alone_minutes for slug, m in alone.items()} == {
        "bisphosphonates": 30,
        "ibandronate": 60,
    }
    for medication in alone.values():
        stated = [c.stated_alone_minutes for c in medication.medicationcitation_set.all()]
        assert medication.taken_alone_minutes == strictest(stated), medication.slug


# magnesium-reference.md section 3, with the labels that give a substance its own window.
LABEL_WINDOWS = {
    "tetracyclines": (Decimal(3), Decimal(6)),
    "fluoroquinolones": (Decimal(2), Decimal(6)),
    "moxifloxacin": (Decimal(4), Decimal(8)),
    "bisphosphonates": (Decimal(4), Decimal(4)),
    "levothyroxine": (Decimal(4), Decimal(4)),
    "gabapentin": (None, Decimal(2)),
    "dolutegravir": (Decimal(2), Decimal(6)),
    "juluca": (Decimal(4), Decimal(6)),
    "penicillamine": (Decimal(4), Decimal(4)),
}


def test_spacing_is_stored_with_its_direction_as_the_labels_give_it():
    stored = {
        rule.medication.slug: (rule.drug_before_mg_hours, rule.drug_after_mg_hours)
        for rule in InteractionRule.objects.filter(
            mechanism__in=["chelation", "absorption"], check_label=False
        ).select_related("medication")
    }

    assert stored == LABEL_WINDOWS


def test_every_name_and_brand_finds_one_medication():
    seen = {}
    for medication in Medication.objects.all():
        for term in medication_search_terms(medication):
            assert seen.setdefault(fold(term), medication.slug) == medication.slug, term


def test_medication_search_key_folds_case_and_accents():
    omeprazole = Medication.objects.get(slug="omeprazole")

    assert fold("OMÉPRAZOL") in omeprazole.search_text
    assert "|losec|" in omeprazole.search_text


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


def test_the_seeds_organic_molecule_slide_has_one_evidence_basis():
    # "Toepassing organisch molecuul": citrate, energy; glycerophosphate, nervous system;
    # pidolate, bones. The webinar's own recommendation: unverified, citing the webinar.
    links = CompoundIndication.objects.filter(
        Q(indication__slug="energy", compound__carrier__slug__contains="citrate")
        | Q(compound__slug="magnesium-glycerophosphate", indication__slug="nervous-system")
        | Q(compound__slug="magnesium-pidolate", indication__slug="bones-joints")
    ).prefetch_related("references")

    assert {(link.grade, link.basis, link.status) for link in links} == {
        ("D", "carrier", "unverified")
    }
    assert len(links) == 6
    assert all("SEED-SOE-WEBINAR" in {r.key for r in link.references.all()} for link in links)


def test_orotate_for_the_heart_is_graded_as_one_small_trial_in_severe_heart_failure():
    grades = set(
        CompoundIndication.objects.filter(
            compound__slug__startswith="magnesium-orotate", indication__slug="heart-vessels"
        ).values_list("grade", flat=True)
    )
    assert grades == {"C"}


def test_pidolate_is_the_monohydrate_that_licensed_labels_imply():
    pidolate = CompoundForm.objects.get(slug="magnesium-pidolate")
    # MAG 2: 1500 mg pidolate = 122 mg magnesium.
    assert (pidolate.hydrate, round(1500 * pidolate.elemental_magnesium_fraction)) == (
        "monohydrate",
        122,
    )
    assert "MAG2-SMPC" in set(pidolate.references.values_list("key", flat=True))


def test_the_two_incomplete_references_have_title_and_doi():
    assert Reference.objects.get(key="NUTR2018-BP").doi == "10.3390/nu10050581"
    assert Reference.objects.get(key="EFSA2024-MGT").doi == "10.2903/j.efsa.2024.8656"
    assert "Changes of blood pressure" in Reference.objects.get(key="NUTR2018-BP").citation


def test_the_split_dose_advice_is_attributed_to_the_bfr():
    eu = ReferenceIntake.objects.get(
        jurisdiction="eu", kind="upper_limit", age_from_months=48, life_stage="general"
    )
    assert "BfR" in eu.note_en and "not part of the SCF/EFSA limit" in eu.note_en
    # Every EU limit that advises splitting (pregnancy and lactation too) says whose advice.
    splitting = ReferenceIntake.objects.filter(
        jurisdiction="eu", kind="upper_limit", split_dose_advised=True
    )
    assert splitting.count() == 3
    for row in splitting:
        assert "BfR2017" in set(row.references.values_list("key", flat=True)), row


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


@pytest.mark.parametrize(
    ("kind", "parent", "field"),
    [
        ("substance", "ciprofloxacin", "parent"),
        ("class", "fluoroquinolones", "parent"),
        ("combination", "fluoroquinolones", "parent"),
    ],
)
def test_medication_parent_must_fit_its_kind(kind, parent, field):
    medication = Medication(
        slug="new-medicine",
        kind=kind,
        parent=Medication.objects.get(slug=parent),
        name_nl="Nieuw",
        name_en="New",
    )

    with pytest.raises(ValidationError) as raised:
        medication.full_clean()

    assert field in raised.value.error_dict


def test_medication_brand_names_are_a_list_of_names():
    medication = Medication(slug="new-medicine", kind="substance", name_nl="N", name_en="N")
    medication.brand_names = "Ciproxin"

    with pytest.raises(ValidationError) as raised:
        medication.full_clean()

    assert "brand_names" in raised.value.error_dict
