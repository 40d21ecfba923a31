"""population= on products/, match/ and advice/; renal=severe; the limits per population and
jurisdiction with their sources, and "no limit set" said rather than borrowed."""

from decimal import Decimal

import pytest

from formulary.enums import IntakeKind, Jurisdiction, LifeStage
from formulary.models import Population, ReferenceIntake
from products.knowledge import population_knowledge
from products.matching.ranking import ranked_matches, top_matches
from products.models import Product

pytestmark = pytest.mark.django_db

API = "/api/v1"
# Magnesium Bisglycinaat Nacht: 1418 mg bisglycinate a day, about 200 mg elemental.
PRODUCT = "2073100011373"

# magnesium-reference.md §2.4: EU SCF 250 mg from age 4 (adults, pregnancy, lactation), none
# for 1-3 years; US IOM 65 mg (1-3 y), 110 mg (4-8 y), 350 mg from 9 years (incl. pregnancy
# and lactation). None: the jurisdiction sets no limit for the population.
LIMITS = {
    "adult": {"eu": 250, "us": 350},
    "child-1-3": {"eu": None, "us": 65},
    "child-4-8": {"eu": 250, "us": 110},
    "child-9-13": {"eu": 250, "us": 350},
    "child-14-17": {"eu": 250, "us": 350},
    "pregnancy": {"eu": 250, "us": 350},
    "lactation": {"eu": 250, "us": 350},
}


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    return response.json()


def test_populations_every_stored_population_is_in_the_table():
    assert set(Population.objects.values_list("slug", flat=True)) == set(LIMITS)
    assert Population.objects.get(is_default=True).slug == "adult"


@pytest.mark.parametrize("population", sorted(LIMITS))
def test_products_population_limit_per_jurisdiction_with_its_source(client, population):
    product = Product.objects.get(gtin=PRODUCT)

    body = get_json(client, f"{API}/products/{PRODUCT}/?population={population}&lang=en")

    limits = body["population"]["upper_limits"]
    assert body["population"]["slug"] == population
    for jurisdiction, expected in LIMITS[population].items():
        facts = limits[jurisdiction]
        if expected is None:
            assert facts["set"] is False
            assert (facts["limit_mg"], facts["exceeded"], facts["references"]) == (None, None, [])
            assert facts["message"].startswith(f"The {jurisdiction.upper()} sets no")
        else:
            row = population_knowledge().population_limits[population, jurisdiction]
            assert facts["limit_mg"] == expected
            assert facts["exceeded"] is (product.elemental_mg_per_day > Decimal(expected))
            assert facts["status"] == row.status
            assert facts["references"] == sorted(r.key for r in row.references.all())
            # The sentence states the structured limit.
            assert f"is {expected} mg a day" in facts["message"]


def test_products_without_population_are_judged_for_adults(client):
    body = get_json(client, f"{API}/products/{PRODUCT}/")

    assert body["population"]["slug"] == "adult"
    assert (
        body["population"]["upper_limits"]["eu"]["limit_mg"]
        == body["upper_limits"]["eu"]["limit_mg"]
    )


def test_products_a_pregnancy_limit_is_its_own_row_never_the_general_one():
    for jurisdiction in Jurisdiction.values:
        row = population_knowledge().population_limits["pregnancy", jurisdiction]
        assert (row.kind, row.life_stage) == (IntakeKind.UPPER_LIMIT, LifeStage.PREGNANCY)


def test_products_a_child_of_1_3_years_exceeds_the_us_limit_and_has_no_eu_one(client):
    body = get_json(client, f"{API}/products/?population=child-1-3&page_size=100")

    for row in body["results"]:
        eu, us = row["population"]["upper_limits"]["eu"], row["population"]["upper_limits"]["us"]
        assert eu["set"] is False
        assert us["exceeded"] is (row["elemental_mg_per_day"] > 65)


def test_products_within_upper_limit_follows_the_population(client):
    body = get_json(client, f"{API}/products/?population=child-4-8&within_upper_limit=us")

    assert body["results"]
    assert all(row["elemental_mg_per_day"] <= 110 for row in body["results"])
    assert all(
        row["population"]["upper_limits"]["us"]["exceeded"] is False for row in body["results"]
    )


def test_products_within_upper_limit_where_none_is_set_is_a_400(client):
    body = get_json(
        client, f"{API}/products/?population=child-1-3&within_upper_limit=eu&lang=en", 400
    )

    assert body["error"]["details"] == [
        {
            "field": "within_upper_limit",
            "code": "no_upper_limit",
            "message": "The EU sets no supplemental upper limit of magnesium for children aged "
            "1-3 years; none is borrowed from another population or jurisdiction.",
        }
    ]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"{API}/products/?population=martians", "unknown_slug"),
        (f"{API}/products/?population=adult,pregnancy", "one_value"),
        (f"{API}/products/match/?indication=sleep&population=martians", "unknown_slug"),
        (f"{API}/products/match/?indication=sleep&renal=mild", "invalid_choice"),
        (f"{API}/advice/?compound=magnesium-bisglycinate&population=martians", "unknown_slug"),
        (f"{API}/advice/?compound=magnesium-bisglycinate&renal=mild", "invalid_choice"),
    ],
)
def test_population_bad_values_are_a_400_naming_the_field(client, url, code):
    body = get_json(client, url, 400)

    assert body["error"]["code"] == "invalid_parameter"
    assert [detail["code"] for detail in body["error"]["details"]] == [code]


def test_products_list_with_population_query_count_does_not_grow_with_page_size(
    client, django_assert_num_queries, page_queries
):
    client.get(f"{API}/products/?page_size=1&population=child-4-8")
    # The catalogue version, the page.
    with django_assert_num_queries(1 + page_queries):
        client.get(f"{API}/products/?page_size=2&population=child-4-8")
    with django_assert_num_queries(1 + page_queries):
        client.get(f"{API}/products/?page_size=100&population=child-4-8")


def test_products_a_changed_limit_is_never_served_stale(client):
    url = f"{API}/products/{PRODUCT}/?population=child-4-8"
    assert get_json(client, url)["population"]["upper_limits"]["us"]["limit_mg"] == 110
    row = ReferenceIntake.objects.get(
        jurisdiction="us", kind=IntakeKind.UPPER_LIMIT, age_from_months=48, life_stage="general"
    )
    row.amount_mg = Decimal(120)
    row.save()

    facts = get_json(client, f"{url}&lang=en")["population"]["upper_limits"]["us"]
    assert facts["limit_mg"] == 120
    # The sentence is kept with the knowledge snapshot: a new limit makes a new one.
    assert "is 120 mg a day" in facts["message"]


def test_products_limit_sentences_follow_the_language_on_every_row(client):
    # The sentences are kept per language: a Dutch page after an English one is all Dutch.
    url = f"{API}/products/?population=child-4-8&page_size=5"
    english = get_json(client, f"{url}&lang=en")["results"]
    dutch = get_json(client, f"{url}&lang=nl")["results"]

    assert len(english) == len(dutch) == 5
    for row in english:
        us = row["population"]["upper_limits"]["us"]
        assert us["message"] == (
            "The US supplemental upper limit of magnesium for children aged 4-8 years is "
            "110 mg a day."
        )
    for row in dutch:
        us = row["population"]["upper_limits"]["us"]
        assert us["message"].startswith("De US-bovengrens voor magnesium uit supplementen")
        assert us["message"].endswith("is 110 mg per dag.")


@pytest.mark.parametrize(
    ("population", "jurisdiction"),
    [("child-4-8", "us"), ("child-1-3", "us"), ("child-1-3", "eu"), ("pregnancy", "eu")],
)
def test_match_headroom_and_warnings_use_the_population_limit(client, population, jurisdiction):
    expected = LIMITS[population][jurisdiction]

    body = get_json(
        client,
        f"{API}/products/match/?indication=sleep&population={population}"
        f"&jurisdiction={jurisdiction}&page_size=50&lang=en",
    )

    for result in body["results"]:
        figures, codes = result["figures"], [w["code"] for w in result["warnings"]]
        assert figures["population"] == population
        assert figures["upper_limit_mg"] == expected
        if expected is None:
            assert figures["upper_limit_set"] is False
            assert "no_upper_limit" in codes
        elif result["elemental_mg_per_day"] > expected:
            assert result["factors"]["headroom"]["value"] == 0
            assert "upper_limit_exceeded" in codes


@pytest.mark.parametrize("population", ["child-4-8", "child-1-3", "adult"])
@pytest.mark.parametrize("count", [1, 3, 10])
def test_match_top_k_with_a_population_limit_equals_the_full_ranking(population, count):
    data = population_knowledge()
    limit = data.population_limits[population, "us"]
    limit_mg = limit.amount_mg if limit else None
    adult = data.population_limits["adult", "us"].amount_mg
    from formulary.models import Indication
    from products.matching import weights

    indication = Indication.objects.get(slug="sleep")
    products = Product.objects.filter(status="published")
    full = list(ranked_matches(products, indication_ids=[indication.pk], limit_mg=limit_mg)[:count])
    top = top_matches(
        products,
        indication_ids=[indication.pk],
        jurisdiction="us",
        limit_mg=limit_mg,
        count=count,
        headroom_slack=0.0 if limit_mg == adult else float(weights.HEADROOM_WEIGHT),
    )

    assert [p.gtin for p in top] == [p.gtin for p in full]


def test_advice_product_population_limits_intakes_and_their_sources(client):
    product = Product.objects.get(gtin=PRODUCT)

    body = get_json(client, f"{API}/advice/?product={PRODUCT}&population=child-1-3&lang=en")

    population = body["population"]
    assert population["slug"] == "child-1-3"
    assert population["upper_limits"]["eu"]["set"] is False
    assert population["upper_limits"]["us"]["limit_mg"] == 65
    assert population["upper_limits"]["us"]["exceeded"] is True
    # EFSA's bands (1-<3, 3-<10 years) both meet the IOM's 1-3 years: both are listed.
    assert [
        (i["age_from_months"], i["amount_mg"]) for i in population["reference_intakes"]["eu"]
    ] == [
        (12, 170),
        (36, 230),
    ]
    assert [i["amount_mg"] for i in population["reference_intakes"]["us"]] == [80]
    us_rda = population["reference_intakes"]["us"][0]
    assert us_rda["percent_per_day"] == float(round(product.elemental_mg_per_day * 100 / 80, 1))
    assert body["cautions"] == []


@pytest.mark.parametrize("population", sorted(LIMITS))
def test_advice_compound_population_limits_without_an_amount(client, population):
    body = get_json(
        client, f"{API}/advice/?compound=magnesium-bisglycinate&population={population}"
    )

    for jurisdiction, expected in LIMITS[population].items():
        facts = body["population"]["upper_limits"][jurisdiction]
        assert facts["limit_mg"] == expected
        assert facts["exceeded"] is None


def test_advice_and_match_renal_severe_give_the_sourced_caution(client):
    advice = get_json(client, f"{API}/advice/?compound=magnesium-bisglycinate&renal=severe&lang=en")
    match = get_json(client, f"{API}/products/match/?indication=sleep&renal=severe&lang=en")

    (caution,) = advice["cautions"]
    assert caution["slug"] == "severe-renal-impairment"
    assert caution["status"] == "verified"
    assert {r["key"] for r in caution["references"]} == {
        "SMPC-MAGNASPARTATE",
        "SMPC-NEOMAG",
        "ODS-MG",
    }
    # The advice text names the GFR threshold of its verified source.
    assert "GFR below 30 mL/min" in caution["advice"]
    for result in match["results"]:
        (warning,) = [w for w in result["warnings"] if w["code"] == "renal_impairment"]
        assert caution["advice"] in warning["message"]


def test_advice_and_match_without_renal_give_no_caution(client):
    advice = get_json(client, f"{API}/advice/?compound=magnesium-bisglycinate")
    match = get_json(client, f"{API}/products/match/?indication=sleep")

    assert advice["cautions"] == []
    assert all(w["code"] != "renal_impairment" for r in match["results"] for w in r["warnings"])
