"""Facet counts and count=true equal the lengths of the lists they stand for."""

import random
from urllib.parse import urlencode

import pytest

from compounds.enums import Classification
from compounds.models import CompoundForm
from formulary.models import DeficiencySign, Indication, RiskGroup
from products.catalogue_generator import BRAND_SLUG_PREFIX, CatalogueGenerator
from products.enums import DosageForm
from products.facets import FACETS, own_filters
from products.models import Brand
from tests.test_api import all_results, error

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def quiet(*_args):
    """Swallows the generator's progress lines."""


def as_parameter(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def domain(facet: str) -> list:
    """Every value a facet can take, so values it leaves out can be checked to count 0."""
    slugs = {
        "indication": Indication,
        "symptom": DeficiencySign,
        "risk_group": RiskGroup,
        "compound": CompoundForm,
    }
    if facet in slugs:
        return list(slugs[facet].objects.values_list("slug", flat=True))
    if facet == "brand":
        return list(Brand.objects.values_list("slug", flat=True))
    if facet == "carrier":
        return list(
            CompoundForm.objects.exclude(carrier=None).values_list("carrier__slug", flat=True)
        )
    return {
        "classification": Classification.values,
        "dosage_form": DosageForm.values,
    }.get(facet, [True, False])


def random_filters(rng: random.Random, brands: list[str]) -> dict:
    """Some of the catalogue's filters, with values a webshop would send."""
    choices = {
        "dosage_form": lambda: ",".join(rng.sample(DosageForm.values, rng.randint(1, 2))),
        "vegan": lambda: rng.choice(["true", "false"]),
        "indication": lambda: ",".join(rng.sample(["sleep", "sport", "stress", "energy"], 2)),
        "compound": lambda: rng.choice(["magnesium-bisglycinate", "magnesium-oxide"]),
        "brand": lambda: ",".join(rng.sample(brands, 3)),
        "min_elemental_mg": lambda: str(rng.choice([100, 200])),
        "within_upper_limit": lambda: "eu",
        "classification": lambda: rng.choice(Classification.values),
        "search": lambda: rng.choice(["citr", "Magnesium", "bisglycinate"]),
    }
    names = rng.sample(sorted(choices), rng.randint(1, 3))
    filters = {name: choices[name]() for name in names}
    if "indication" in filters and rng.random() < 0.5:
        filters["indication_match"] = "all"
    return filters


def counted(client, filters: dict) -> int:
    body = client.get(f"{PRODUCTS}?{urlencode({**filters, 'count': 'true'})}").json()
    return body["count"]


@pytest.mark.parametrize("seed", [1, 2])
def test_facet_counts_equal_the_lists_with_that_value_chosen(client, seed):
    CatalogueGenerator(seed=seed, brands=12, report=quiet).generate(250)
    rng = random.Random(seed)
    brands = sorted(
        Brand.objects.filter(slug__startswith=BRAND_SLUG_PREFIX).values_list("slug", flat=True)
    )
    for _ in range(2):
        filters = random_filters(rng, brands)
        query = urlencode({**filters, "facets": ",".join(FACETS), "count": "true"})
        body = client.get(f"{PRODUCTS}?{query}").json()

        assert body["count"] == len(all_results(client, f"{PRODUCTS}?{urlencode(filters)}"))
        for facet, values in body["facets"].items():
            others = {k: v for k, v in filters.items() if k not in own_filters(facet)}
            listed = {item["value"]: item["count"] for item in values}
            assert all(count > 0 for count in listed.values())
            unlisted = [value for value in domain(facet) if value not in listed]
            for value in [*list(listed)[:4], *unlisted[:1]]:
                chosen = {**others, facet: as_parameter(value)}
                assert counted(client, chosen) == listed.get(value, 0), (filters, facet, value)


def test_facet_count_of_a_value_equals_the_length_of_its_list(client):
    CatalogueGenerator(seed=3, brands=5, report=quiet).generate(120)

    body = client.get(f"{PRODUCTS}?dosage_form=capsule&facets=dosage_form,indication").json()

    for facet, values in body["facets"].items():
        for item in values[:3]:
            others = {} if facet == "dosage_form" else {"dosage_form": "capsule"}
            query = urlencode({**others, facet: as_parameter(item["value"])})
            assert len(all_results(client, f"{PRODUCTS}?{query}")) == item["count"]


def test_facets_and_count_cost_one_query_each(client, django_assert_num_queries, page_queries):
    client.get(PRODUCTS)  # the knowledge base, kept per catalogue version
    # The catalogue version, the page with its lines; then the count and one per facet.
    with django_assert_num_queries(1 + page_queries + 1 + 3):
        response = client.get(f"{PRODUCTS}?facets=indication,compound,brand&count=true")

    assert set(response.json()["facets"]) == {"indication", "compound", "brand"}


def test_facets_unknown_name_is_refused_by_name(client):
    response = client.get(f"{PRODUCTS}?facets=dosage_form,colour")

    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid_parameter",
        "Invalid parameter: facets.",
        [{"field": "facets", "code": "unknown_slug", "message": "Unknown facet: colour."}],
    )


def test_count_without_facets_adds_only_the_count(client):
    body = client.get(f"{PRODUCTS}?vegan=true&count=true").json()

    assert body["count"] == len(all_results(client, f"{PRODUCTS}?vegan=true"))
    assert "facets" not in body


def test_match_refuses_facets(client):
    response = client.get("/api/v1/products/match/?indication=sleep&facets=brand")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["code"] == "unknown_parameter"


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("indications/", "indication"),
        ("compounds/?page_size=100", "compound"),
        ("symptoms/", "symptom"),
        ("risk-groups/", "risk_group"),
    ],
)
def test_vocabulary_product_counts_equal_the_filtered_lists(client, path, parameter):
    terms = client.get(f"/api/v1/{path}").json()["results"]

    counts = {term["slug"]: term["product_count"] for term in terms}
    lists = {slug: len(all_results(client, f"{PRODUCTS}?{parameter}={slug}")) for slug in counts}
    assert counts == lists
    assert any(counts.values())


def test_indication_detail_carries_its_product_count(client):
    body = client.get("/api/v1/indications/sleep/").json()

    assert body["product_count"] == len(all_results(client, f"{PRODUCTS}?indication=sleep"))
