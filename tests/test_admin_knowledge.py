"""The admin pages of the population and regimen knowledge (issue 13): populations, the
nutrients' upper limits, the cautions and the supplement rules, as pharmacist editors keep them;
and the staff groups' permissions on every model of the knowledge base.

A write through the admin goes through the model signals: the next API read shows it.
"""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from compounds.models import SupplementRule
from formulary.admin import age_band_text
from formulary.common.history import ChangePath
from formulary.enums import IntakeKind
from formulary.models import (
    Caution,
    HealthClaim,
    Medication,
    NutrientUpperLimit,
    Population,
    ReferenceIntake,
    SourceOfRule,
)
from products.models import ProductIndication
from tests.test_admin import change_url, form_data, staff_client

pytestmark = pytest.mark.django_db

API = "/api/v1"
PRODUCT = "2073100011373"  # about 200 mg elemental magnesium a day
REGIMEN = {
    "population": "adult",
    "products": [{"gtin": "2073800015480"}],  # magnesium oxide with 10 mg zinc
    "supplements": [{"nutrient": "zinc", "amount": 20}, {"nutrient": "iron", "amount": 14}],
}
# The knowledge pages tested here: issue 13's, and those of the medications and the health
# claims, whose permissions came later (products.0016).
MODELS = [
    ("formulary", "population"),
    ("formulary", "nutrientupperlimit"),
    ("formulary", "caution"),
    ("compounds", "supplementrule"),
    ("formulary", "medication"),
    ("formulary", "sourceofrule"),
    ("formulary", "healthclaim"),
]
# What the two lower layers hold that is not knowledge: the catalogue's version counter.
NOT_KNOWLEDGE = {("formulary", "catalogueversion")}


def knowledge_models() -> list[tuple[str, str]]:
    """Every model of the knowledge base, read from the apps so that a new one is not missed:
    the formulary's and the compounds' own models, without their audit-history twins."""
    return sorted(
        (model._meta.app_label, model._meta.model_name)
        for label in ("formulary", "compounds")
        for model in apps.get_app_config(label).get_models()
        if not hasattr(model, "instance_type")  # django-simple-history's historical models
        and (label, model._meta.model_name) not in NOT_KNOWLEDGE
    )


@pytest.fixture
def pharmacist(client, django_user_model):
    return staff_client(client, django_user_model, "Pharmacist editors")


def changelist(app, model) -> str:
    return reverse(f"admin:{app}_{model}_changelist")


def zinc_eu_limit() -> NutrientUpperLimit:
    return NutrientUpperLimit.objects.get(nutrient__slug="zinc", jurisdiction="eu")


def a_row_of(app, model):
    return {
        "population": lambda: Population.objects.get(slug="child-1-3"),
        "nutrientupperlimit": zinc_eu_limit,
        "caution": lambda: Caution.objects.get(slug="severe-renal-impairment"),
        "supplementrule": lambda: SupplementRule.objects.get(nutrient__slug="iron"),
        "medication": lambda: Medication.objects.get(slug="bisphosphonates"),
        "sourceofrule": lambda: SourceOfRule.objects.get(nutrient="magnesium"),
        "healthclaim": lambda: HealthClaim.objects.get(slug="mg-muscle"),
    }[model]()


def errors_of(response) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def regimen(client, lang="en") -> dict:
    response = client.post(f"{API}/regimen/?lang={lang}", REGIMEN, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


# ---- the pages --------------------------------------------------------------------------


@pytest.mark.parametrize(("app", "model"), MODELS)
@pytest.mark.parametrize("language", ["en", "nl"])
def test_knowledge_pages_open_for_a_pharmacist_editor_in_each_language(
    pharmacist, app, model, language
):
    pharmacist.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    row = a_row_of(app, model)

    listing = pharmacist.get(changelist(app, model))
    change = pharmacist.get(change_url(row))
    add = pharmacist.get(reverse(f"admin:{app}_{model}_add"))
    history = pharmacist.get(reverse(f"admin:{app}_{model}_history", args=[row.pk]))

    assert [r.status_code for r in (listing, change, add, history)] == [200, 200, 200, 200]
    assert listing.context["cl"].result_count == type(row).objects.count()
    assert 'name="_save"' in change.content.decode()


@pytest.mark.parametrize(
    ("app", "model", "citations"),
    [
        ("formulary", "nutrientupperlimit", "nutrientupperlimitcitation_set"),
        ("formulary", "caution", "cautioncitation_set"),
        ("compounds", "supplementrule", "supplementrulecitation_set"),
        ("formulary", "medication", "medicationcitation_set"),
        ("formulary", "sourceofrule", "sourceofrulecitation_set"),
        ("formulary", "healthclaim", "healthclaimcitation_set"),
    ],
)
def test_knowledge_change_forms_cite_references_through_the_autocomplete(
    pharmacist, app, model, citations
):
    row = a_row_of(app, model)

    page = pharmacist.get(change_url(row))

    # Without a permission on the citation model the admin leaves the inline out altogether;
    # with view only it is read-only.
    (inline,) = page.context["inline_admin_formsets"]
    assert inline.formset.prefix == citations
    assert inline.formset.initial_form_count() == getattr(row, citations).count() > 0
    assert (inline.has_add_permission, inline.has_change_permission) == (True, True)
    assert inline.has_delete_permission is True
    widget = inline.formset.form.base_fields["reference"].widget
    assert type(widget.widget).__name__ == "AutocompleteSelect"


def test_population_list_shows_the_age_band_as_a_reader_says_it(pharmacist):
    page = pharmacist.get(changelist("formulary", "population"))

    html = page.content.decode()
    for band in ("1-3 years", "4-8 years", "14-17 years", "18 years and older"):
        assert band in html
    assert "216" not in html  # not the raw months


@pytest.mark.parametrize(
    ("start", "end", "english"),
    [
        (12, 48, "1-3 years"),
        (216, None, "18 years and older"),
        (0, 6, "0-5 months"),
        (6, 12, "6-11 months"),
        (0, 12, "0-11 months"),
        (7, None, "7 months and older"),
        (0, None, "0 months and older"),
        (5, 6, "5 months"),
        (12, None, "1 year and older"),
    ],
)
def test_age_band_text_in_english(start, end, english):
    from django.utils import translation

    with translation.override("en"):
        assert age_band_text(start, end) == english


def test_age_band_text_in_dutch():
    from django.utils import translation

    with translation.override("nl"):
        assert age_band_text(12, 48) == "1-3 jaar"
        assert age_band_text(216, None) == "18 jaar en ouder"
        assert age_band_text(0, 6) == "0-5 maanden"


def test_upper_limit_list_shows_amount_with_unit_and_filters_by_nutrient(pharmacist):
    zinc = zinc_eu_limit()

    page = pharmacist.get(
        changelist("formulary", "nutrientupperlimit"), {"nutrient__id__exact": zinc.nutrient_id}
    )

    rows = list(page.context["cl"].result_list)
    assert {row.nutrient.slug for row in rows} == {"zinc"}
    assert "25 mg" in page.content.decode()


# ---- permissions ------------------------------------------------------------------------


def codenames(name):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=name).permissions.select_related("content_type")
    }


def test_knowledge_models_are_the_ones_the_pages_and_citations_stand_for():
    # A guard on the list below: the knowledge base has its citation models and issue 13's.
    found = set(knowledge_models())

    assert set(MODELS) <= found
    assert {
        ("formulary", "medicationcitation"),
        ("formulary", "sourceofrulecitation"),
        ("formulary", "healthclaimcitation"),
        ("compounds", "supplementrulecitation"),
    } <= found
    assert NOT_KNOWLEDGE.isdisjoint(found)


@pytest.mark.parametrize(("app", "model"), knowledge_models())
def test_pharmacist_editors_keep_and_shop_staff_see_every_knowledge_model(app, model):
    pharmacist, shop = codenames("Pharmacist editors"), codenames("Shop staff")

    assert {
        a for a in ("add", "change", "delete", "view") if f"{app}.{a}_{model}" in pharmacist
    } == {
        "add",
        "change",
        "delete",
        "view",
    }
    assert {a for a in ("add", "change", "delete", "view") if f"{app}.{a}_{model}" in shop} == {
        "view"
    }


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_shop_staff_see_knowledge_read_only_and_cannot_add_or_change_it(
    admin_client, client, django_user_model, app, model
):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    row = a_row_of(app, model)
    data = form_data(admin_client.get(change_url(row)))
    records = row.history.count()
    shop = staff_client(client, django_user_model, "Shop staff")

    listing = shop.get(changelist(app, model))
    page = shop.get(change_url(row))
    add = shop.get(reverse(f"admin:{app}_{model}_add"))
    response = shop.post(change_url(row), data)

    assert [r.status_code for r in (listing, page, add, response)] == [200, 200, 403, 403]
    assert 'name="_save"' not in page.content.decode()
    assert row.history.count() == records


def test_shop_staff_see_an_upper_limit_without_its_amount_field(client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")

    page = shop.get(change_url(zinc_eu_limit()))

    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()


# ---- an admin write is what the API answers next ----------------------------------------


def test_an_upper_limit_saved_in_the_admin_is_the_limit_regimen_shows_next(pharmacist, client):
    before = {n["slug"]: n for n in regimen(client)["nutrients"]}["zinc"]
    limit = zinc_eu_limit()
    data = form_data(pharmacist.get(change_url(limit)))
    data["amount"] = "20"

    response = pharmacist.post(change_url(limit), data)

    assert response.status_code == 302, errors_of(response)
    after = {n["slug"]: n for n in regimen(client)["nutrients"]}["zinc"]
    assert before["upper_limits"]["eu"]["limit"] == 25
    assert after["upper_limits"]["eu"]["limit"] == 20
    # 10 mg in the product and 20 mg on its own: 30 mg, above the new 20 mg.
    assert after["total_per_day"] == 30
    assert after["upper_limits"]["eu"]["exceeded"] is True
    record = zinc_eu_limit().history.first()
    assert (record.history_path, record.amount) == (ChangePath.ADMIN, Decimal(20))


def test_a_magnesium_upper_limit_saved_in_the_admin_is_what_products_and_match_show(
    pharmacist, client
):
    product = f"{API}/products/{PRODUCT}/?population=child-4-8"
    match = f"{API}/products/match/?indication=sleep&population=child-4-8&jurisdiction=us"
    assert client.get(product).json()["population"]["upper_limits"]["us"]["limit_mg"] == 110
    assert {r["figures"]["upper_limit_mg"] for r in client.get(match).json()["results"]} == {110}
    row = ReferenceIntake.objects.get(
        jurisdiction="us", kind=IntakeKind.UPPER_LIMIT, life_stage="general", age_from_months=48
    )
    data = form_data(pharmacist.get(change_url(row)))
    data["amount_mg"] = "120"

    response = pharmacist.post(change_url(row), data)

    assert response.status_code == 302, errors_of(response)
    assert client.get(product).json()["population"]["upper_limits"]["us"]["limit_mg"] == 120
    assert {r["figures"]["upper_limit_mg"] for r in client.get(match).json()["results"]} == {120}


def test_a_population_band_changed_in_the_admin_moves_its_limits_on_products_and_match(
    pharmacist, client
):
    product = f"{API}/products/{PRODUCT}/?population=child-1-3"
    match = f"{API}/products/match/?indication=sleep&population=child-1-3&jurisdiction=eu"
    assert client.get(product).json()["population"]["upper_limits"]["eu"]["set"] is False
    assert {r["figures"]["upper_limit_set"] for r in client.get(match).json()["results"]} == {False}
    population = Population.objects.get(slug="child-1-3")
    points_before = sorted(ProductIndication.objects.values_list("pk", "points_eu", "points_us"))
    data = form_data(pharmacist.get(change_url(population)))
    # Now the band of 4-8 years: the EU sets 250 mg from 4 years, the US 110 mg.
    data.update(age_from_months="48", age_to_months="108")

    response = pharmacist.post(change_url(population), data)

    assert response.status_code == 302, errors_of(response)
    limits = client.get(product).json()["population"]["upper_limits"]
    assert (limits["eu"]["limit_mg"], limits["us"]["limit_mg"]) == (250, 110)
    assert {r["figures"]["upper_limit_mg"] for r in client.get(match).json()["results"]} == {250}
    # The stored match rows carry the adult limits only (products.receivers): a population's
    # band is applied when match/ is read, so no row needs rebuilding.
    points_after = sorted(ProductIndication.objects.values_list("pk", "points_eu", "points_us"))
    assert points_after == points_before


def test_a_caution_saved_in_the_admin_is_the_warning_advice_and_match_give_next(pharmacist, client):
    advice = f"{API}/advice/?compound=magnesium-bisglycinate&renal=severe&lang=en"
    match = f"{API}/products/match/?indication=sleep&renal=severe&lang=en"
    client.get(advice), client.get(match)
    caution = Caution.objects.get(slug="severe-renal-impairment")
    data = form_data(pharmacist.get(change_url(caution)))
    data["advice_en"] = "Ask the nephrologist first."
    data["status"] = "unverified"

    response = pharmacist.post(change_url(caution), data)

    assert response.status_code == 302, errors_of(response)
    (shown,) = client.get(advice).json()["cautions"]
    assert (shown["advice"], shown["status"]) == ("Ask the nephrologist first.", "unverified")
    for result in client.get(match).json()["results"]:
        (warning,) = [w for w in result["warnings"] if w["code"] == "renal_impairment"]
        assert "Ask the nephrologist first." in warning["message"]


def test_a_supplement_rule_saved_in_the_admin_is_the_window_regimen_plans_with_next(
    pharmacist, client
):
    before = {r["nutrient"]: r for r in regimen(client)["supplement_rules"]}["iron"]
    rule = SupplementRule.objects.get(nutrient__slug="iron")
    data = form_data(pharmacist.get(change_url(rule)))
    data.update(supplement_before_mg_hours="5", supplement_after_mg_hours="6")
    # The sources' stated windows stay as they were: the rule's own hours are edited.

    response = pharmacist.post(change_url(rule), data)

    assert response.status_code == 302, errors_of(response)
    after = {r["nutrient"]: r for r in regimen(client)["supplement_rules"]}["iron"]
    assert (before["supplement_before_mg_hours"], before["supplement_after_mg_hours"]) == (4, 4)
    assert (after["supplement_before_mg_hours"], after["supplement_after_mg_hours"]) == (5, 6)


def test_a_citation_added_in_the_admin_is_a_source_the_api_shows(pharmacist, client):
    limit = zinc_eu_limit()
    data = form_data(pharmacist.get(change_url(limit)))
    prefix = "nutrientupperlimitcitation_set"
    count = int(data[f"{prefix}-TOTAL_FORMS"])
    from formulary.models import Reference

    reference = Reference.objects.exclude(
        pk__in=limit.references.values_list("pk", flat=True)
    ).first()
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(count + 1),
            f"{prefix}-{count}-reference": str(reference.pk),
            f"{prefix}-{count}-limit": str(limit.pk),
        }
    )

    response = pharmacist.post(change_url(limit), data)

    assert response.status_code == 302, errors_of(response)
    zinc = {n["slug"]: n for n in regimen(client)["nutrients"]}["zinc"]
    assert reference.key in zinc["upper_limits"]["eu"]["references"]


# ---- bad input is a form error, never a 500 ---------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"age_from_months": "48", "age_to_months": "12"}, "age_to_months", "The band ends"),
        ({"age_from_months": "48", "age_to_months": "48"}, "age_to_months", "The band ends"),
        ({"age_from_months": "-12"}, "age_from_months", "greater than or equal to 0"),
        ({"age_from_months": "1,5"}, "age_from_months", "is not a whole number"),
        ({"is_default": "on"}, "is_default", "“Adults” is the default population already"),
        ({"life_stage": "old-age"}, "life_stage", "Select a valid choice"),
        ({"slug": "child 1-3"}, "slug", "Enter a valid “slug”"),
    ],
)
def test_population_bad_input_is_a_clear_form_error(pharmacist, changes, field, message):
    population = Population.objects.get(slug="child-1-3")
    data = form_data(pharmacist.get(change_url(population)))
    data.update(changes)

    response = pharmacist.post(change_url(population), data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert Population.objects.get(pk=population.pk).age_from_months == 12


def test_population_a_new_band_reversed_is_a_form_error_in_dutch(pharmacist):
    pharmacist.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"
    data = {
        "slug": "infant",
        "name_nl": "Zuigelingen",
        "name_en": "Infants",
        "life_stage": "general",
        "age_from_months": "12",
        "age_to_months": "6",
    }

    response = pharmacist.post(reverse("admin:formulary_population_add"), data)

    assert response.status_code == 200
    assert errors_of(response) == {
        "age_to_months": [
            "De band eindigt voordat hij begint: de leeftijd tot (6 maanden) moet boven de "
            "leeftijd vanaf (12 maanden) liggen, of leeg zijn voor geen bovengrens."
        ]
    }
    assert not Population.objects.filter(slug="infant").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "greater than or equal to 0.001"),
        ({"amount": "0"}, "amount", "greater than or equal to 0.001"),
        ({"amount": "1234567"}, "amount", "no more than 6 digits before the decimal point"),
        ({"amount": "25 mg"}, "amount", "is not a number"),
        ({"age_from_months": "300", "age_to_months": "216"}, "age_to_months", "The band ends"),
        ({"jurisdiction": "uk"}, "jurisdiction", "Select a valid choice"),
        ({"status": ""}, "status", "This field is required"),
    ],
)
def test_upper_limit_bad_input_is_a_clear_form_error(pharmacist, changes, field, message):
    limit = zinc_eu_limit()
    data = form_data(pharmacist.get(change_url(limit)))
    data.update(changes)

    response = pharmacist.post(change_url(limit), data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert zinc_eu_limit().amount == limit.amount


def test_upper_limit_a_second_row_for_the_same_band_is_a_form_error(pharmacist):
    limit = zinc_eu_limit()
    data = form_data(pharmacist.get(change_url(limit)))
    data.pop("nutrientupperlimitcitation_set-0-id", None)
    data.pop("nutrientupperlimitcitation_set-0-limit", None)
    data["nutrientupperlimitcitation_set-INITIAL_FORMS"] = "0"
    data["amount"] = "30"

    response = pharmacist.post(reverse("admin:formulary_nutrientupperlimit_add"), data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert "already exists" in errors["__all__"][0]
    assert NutrientUpperLimit.objects.filter(nutrient__slug="zinc", jurisdiction="eu").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"supplement_before_mg_hours": "-1"}, "supplement_before_mg_hours", "greater than"),
        ({"supplement_after_mg_hours": "49"}, "supplement_after_mg_hours", "less than or equal"),
        ({"minimum_daily_amount": "-3"}, "minimum_daily_amount", "greater than or equal to 0"),
        ({"mechanism": "depletion"}, "mechanism", "Only chelation and absorption rules"),
        ({"mechanism": "nonsense"}, "mechanism", "Select a valid choice"),
        ({"advice_en": "Keep it 3-4 hours apart."}, "advice_en", "found “3-4 hours”"),
        ({"advice_nl": "Houd 2 uur afstand."}, "advice_nl", "found “2 uur”"),
    ],
)
def test_supplement_rule_bad_input_is_a_clear_form_error(pharmacist, changes, field, message):
    rule = SupplementRule.objects.get(nutrient__slug="iron")
    data = form_data(pharmacist.get(change_url(rule)))
    data.update(changes)

    response = pharmacist.post(change_url(rule), data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert SupplementRule.objects.get(pk=rule.pk).supplement_before_mg_hours == Decimal(4)


def test_caution_without_advice_is_a_form_error(pharmacist):
    caution = Caution.objects.get(slug="severe-renal-impairment")
    data = form_data(pharmacist.get(change_url(caution)))
    data["advice_nl"] = ""

    response = pharmacist.post(change_url(caution), data)

    assert response.status_code == 200
    assert list(errors_of(response)) == ["advice_nl"]


def test_dutch_titles_name_the_rows_in_dutch_and_the_amounts_in_dutch_notation(pharmacist):
    pharmacist.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"

    caution = pharmacist.get(change_url(Caution.objects.get(slug="severe-renal-impairment")))
    limit = pharmacist.get(change_url(zinc_eu_limit()))
    rule = pharmacist.get(change_url(SupplementRule.objects.get(nutrient__slug="iron")))

    assert "waarschuwing wijzigen" in caution.content.decode()
    assert "Zink, EU, algemeen, 18 jaar en ouder: 25 mg" in limit.content.decode()
    assert "IJzer: verminderde opname" in rule.content.decode()
