"""symptoms/ and risk-groups/, and the catalogue and match filters that go through them."""

import pytest

from compounds.models import CompoundIndication
from formulary.models import DeficiencySign, RiskGroup
from products.enums import ProductStatus
from products.models import Product

pytestmark = pytest.mark.django_db

API = "/api/v1"


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    return response.json()


def gtins(client, query):
    return {
        row["gtin"] for row in get_json(client, f"{API}/products/?{query}&page_size=100")["results"]
    }


def linked_gtins(indication_slugs):
    """Published products with a compound that has evidence for any of the indications."""
    compounds = CompoundIndication.objects.filter(indication__slug__in=indication_slugs).values(
        "compound"
    )
    return set(
        Product.objects.filter(
            status=ProductStatus.PUBLISHED, ingredients__compound__in=compounds
        ).values_list("gtin", flat=True)
    )


def listed(body, model, slug):
    """Checks the list holds every row of ``model`` in slug order; returns the one named."""
    assert [row["slug"] for row in body["results"]] == sorted(
        model.objects.values_list("slug", flat=True)
    )
    return next(row for row in body["results"] if row["slug"] == slug)


def test_symptoms_list_every_sign_with_its_indications_and_the_caveat(client):
    body = get_json(client, f"{API}/symptoms/?lang=en")

    cramps = listed(body, DeficiencySign, "cramps")
    assert (cramps["name"], cramps["kind"]) == ("Muscle cramps", "sign")
    assert [i["slug"] for i in cramps["indications"]] == ["cramps"]
    assert body["caveat"]["text"].startswith(
        "A symptom list is not a diagnosis: these signs are non-specific, and serum magnesium "
        "reflects the body's magnesium stores poorly (Fiorentini 2021; Gröber 2015)."
    )
    assert [r["key"] for r in body["caveat"]["references"]] == ["FIORENTINI2021", "GROBER2015"]
    assert get_json(client, f"{API}/symptoms/")["caveat"]["text"].startswith(
        "Een klachtenlijst is geen diagnose"
    )


def test_risk_groups_list_every_group_with_its_support(client):
    body = get_json(client, f"{API}/risk-groups/?lang=en")

    athletes = listed(body, RiskGroup, "athletes")
    assert (athletes["support"], athletes["status"]) == ("weak", "unverified")
    assert [i["slug"] for i in athletes["indications"]] == ["cramps", "sport"]


@pytest.mark.parametrize("slug", ["cramps", "restlessness", "arrhythmia", "seizures"])
def test_products_symptom_filter_goes_through_the_linked_indications(client, slug):
    indications = DeficiencySign.objects.get(slug=slug).indications.values_list("slug", flat=True)

    assert gtins(client, f"symptom={slug}") == linked_gtins(list(indications))


def test_products_symptom_filter_ignores_a_condition_merely_associated_with_low_magnesium(
    client,
):
    # Cardiovascular disease links to heart-vessels as an association, not as a sign: asked
    # as a symptom it selects nothing, while arrhythmia (a sign, also heart-vessels) does.
    association = DeficiencySign.objects.get(slug="cardiovascular-disease")
    assert association.kind == "association"
    assert list(association.indications.values_list("slug", flat=True)) == ["heart-vessels"]

    assert gtins(client, "symptom=cardiovascular-disease") == set()
    assert gtins(client, "symptom=arrhythmia") == linked_gtins(["heart-vessels"])
    assert gtins(client, "symptom=arrhythmia,cardiovascular-disease") == linked_gtins(
        ["heart-vessels"]
    )


@pytest.mark.parametrize("slug", ["athletes", "chronic-stress", "elderly"])
def test_products_risk_group_filter_goes_through_the_linked_indications(client, slug):
    indications = RiskGroup.objects.get(slug=slug).indications.values_list("slug", flat=True)

    assert gtins(client, f"risk_group={slug}") == linked_gtins(list(indications))


@pytest.mark.parametrize("query", ["risk_group=chronic-stress", "symptom=restlessness"])
def test_match_narrows_by_symptom_and_risk_group(client, query):
    rows = get_json(client, f"{API}/products/match/?indication=energy&{query}&page_size=100")

    expected = linked_gtins(["energy"]) & linked_gtins(["stress"])
    assert {row["gtin"] for row in rows["results"]} == expected
    assert 0 < len(expected) < len(linked_gtins(["energy"]))


def test_products_unknown_symptom_is_a_400_naming_it(client):
    assert get_json(client, f"{API}/products/?symptom=cramps,hiccups", 400) == {
        "error": {
            "status": 400,
            "code": "invalid_parameter",
            "message": "Invalid parameter: symptom.",
            "details": [
                {"field": "symptom", "code": "unknown_slug", "message": "Unknown symptom: hiccups."}
            ],
        }
    }


def test_symptoms_query_count_is_fixed(client, django_assert_num_queries):
    # signs, their indications, their references, the caveat's references, and the
    # published-product count per symptom (products.api.vocabulary).
    with django_assert_num_queries(5):
        get_json(client, f"{API}/symptoms/")
