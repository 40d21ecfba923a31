"""The catalogue list's statement, compiled once per shape of its filters
(products.api.list_statement), gives the pages the queryset gives."""

import random
from decimal import Decimal

import pytest
from django.db import router
from django.http import QueryDict

from compounds.enums import Classification
from formulary.models import DeficiencySign, RiskGroup
from products.api import list_statement
from products.api.catalogue import CATALOGUE_PAGE
from products.api.filters import ProductFilter
from products.api.list_statement import CompiledPage, catalogue_page_rows, reads_in_two_steps
from products.catalogue_generator import BRAND_SLUG_PREFIX, CatalogueGenerator
from products.enums import DosageForm, ProductStatus
from products.knowledge import population_knowledge
from products.models import Brand, Product
from products.selectors import published_products
from tests.test_api import all_results

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def quiet(*_args):
    """Swallows the generator's progress lines."""


def validated(query: str) -> ProductFilter | None:
    """The filterset as the filter backend validates it; None when nothing is filtered."""
    if not query:
        return None
    filterset = ProductFilter(QueryDict(query), queryset=published_products())
    assert filterset.is_valid(), filterset.errors
    return filterset


def queryset_page(filterset, start: int, stop: int) -> list[dict]:
    filtered = (
        filterset.filter_queryset(published_products()) if filterset else published_products()
    )
    return list(CATALOGUE_PAGE.rows(filtered)[start:stop])


def random_filters(rng: random.Random, brands: list[str], signs: list[str], groups: list[str]):
    """Some of every kind of filter: parameters (slugs, ids, amounts) and shapes (orderings,
    booleans, claims, jurisdictions, populations)."""
    choices = {
        "indication": lambda: ",".join(rng.sample(["sleep", "sport", "stress", "energy"], 2)),
        "compound": lambda: ",".join(
            rng.sample(["magnesium-bisglycinate", "magnesium-oxide", "magnesium-taurate"], 2)
        ),
        "classification": lambda: rng.choice(Classification.values),
        "carrier": lambda: ",".join(rng.sample(["glycine", "oxide", "citrate"], 2)),
        "dosage_form": lambda: ",".join(rng.sample(DosageForm.values, rng.randint(1, 3))),
        "brand": lambda: ",".join(rng.sample(brands, rng.randint(1, 6))),
        "symptom": lambda: ",".join(rng.sample(signs, 2)),
        "risk_group": lambda: rng.choice(groups),
        "min_elemental_mg": lambda: rng.choice(["50", "100.5", "200"]),
        "max_elemental_mg": lambda: rng.choice(["300", "412.25", "1000"]),
        "within_upper_limit": lambda: rng.choice(["eu", "us"]),
        "claim": lambda: rng.choice(["mg-electrolyte", "mg-muscle,mg-energy"]),
        "vegan": lambda: rng.choice(["true", "false"]),
        "gluten_free": lambda: rng.choice(["true", "false"]),
        "ordering": lambda: rng.choice(["-elemental_mg_per_day", "price", "brand,-name"]),
    }
    names = rng.sample(sorted(choices), rng.randint(0, 5))
    filters = {name: choices[name]() for name in names}
    if "indication" in filters and rng.random() < 0.5:
        filters["indication_match"] = "all"
    if "within_upper_limit" in filters and rng.random() < 0.5:
        filters["population"] = "child-9-13"
    return filters


def filter_vocabulary(*, brand_prefix: str = "") -> tuple[list[str], list[str], list[str]]:
    """The brand, symptom and risk-group slugs ``random_filters`` picks from."""
    brands = Brand.objects.filter(slug__startswith=brand_prefix).values_list("slug", flat=True)
    return (
        sorted(brands),
        sorted(DeficiencySign.objects.values_list("slug", flat=True)),
        sorted(RiskGroup.objects.values_list("slug", flat=True)),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_list_pages_equal_the_querysets_pages_for_generated_filters(seed):
    CatalogueGenerator(seed=seed, brands=12, report=quiet).generate(300)
    rng = random.Random(seed)
    brands, signs, groups = filter_vocabulary(brand_prefix=BRAND_SLUG_PREFIX)
    nonempty = 0
    for _ in range(40):
        query = QueryDict(mutable=True)
        query.update(random_filters(rng, brands, signs, groups))
        filterset = validated(query.urlencode())
        page = catalogue_page_rows(filterset, published_products(), CATALOGUE_PAGE)
        # Every filter but search compiles.
        assert isinstance(page, CompiledPage), query
        for start, stop in ((0, 21), (20, 41), (rng.randint(0, 60), rng.randint(61, 120))):
            rows = page[start:stop]
            assert rows == queryset_page(filterset, start, stop), (query, start, stop)
            nonempty += bool(rows)
    assert nonempty > 20


def test_compiled_list_serves_other_values_with_the_statement_of_their_shape(
    django_assert_num_queries,
):
    first = catalogue_page_rows(
        validated("dosage_form=capsule&min_elemental_mg=100"), published_products(), CATALOGUE_PAGE
    )
    other = validated("dosage_form=tablet&min_elemental_mg=250.5")
    # The knowledge version (outside a request nothing has read it yet) and the page: on
    # PostgreSQL its ids, then their rows.
    two_steps = reads_in_two_steps(router.db_for_read(Product))
    with django_assert_num_queries(3 if two_steps else 2) as queries:
        second = catalogue_page_rows(other, published_products(), CATALOGUE_PAGE)
        rows = second[0:21]

    assert "catalogueversion" in queries.captured_queries[0]["sql"]
    assert second.statement is first.statement
    assert second.values == ["tablet", Decimal("250.5")]
    assert rows == queryset_page(other, 0, 21)
    assert {row["dosage_form"] for row in rows} == {"tablet"}


def test_compiled_list_tells_apart_shapes_that_differ_in_a_value_the_sql_holds():
    any_of = catalogue_page_rows(
        validated("indication=sleep,sport"), published_products(), CATALOGUE_PAGE
    )
    all_of = catalogue_page_rows(
        validated("indication=sleep,sport&indication_match=all"),
        published_products(),
        CATALOGUE_PAGE,
    )
    three = catalogue_page_rows(
        validated("indication=sleep,sport,stress"), published_products(), CATALOGUE_PAGE
    )

    assert len({id(any_of.statement), id(all_of.statement), id(three.statement)}) == 3
    assert len(all_of[0:100]) < len(any_of[0:100])


@pytest.mark.parametrize(
    "queries",
    [
        ("vegan=true", "vegan=false"),
        ("ordering=price", "ordering=-price"),
        ("within_upper_limit=eu", "within_upper_limit=us"),
        ("claim=mg-electrolyte", "claim=mg-electrolyte,b6-energy"),
    ],
    ids=["boolean", "ordering", "jurisdiction", "claim"],
)
def test_compiled_list_gives_a_shaping_value_its_own_statement(queries):
    pages = [
        catalogue_page_rows(validated(q), published_products(), CATALOGUE_PAGE) for q in queries
    ]

    assert pages[0].statement is not pages[1].statement
    for query, page in zip(queries, pages, strict=True):
        assert page[0:100] == queryset_page(validated(query), 0, 100), query
    assert pages[0][0:100] != pages[1][0:100]


def test_compiled_list_leaves_a_search_to_the_queryset():
    filterset = validated("search=citr&dosage_form=capsule")

    page = catalogue_page_rows(filterset, published_products(), CATALOGUE_PAGE)

    assert not isinstance(page, CompiledPage)
    assert list(page[0:21]) == queryset_page(filterset, 0, 21)


def test_compiled_list_follows_an_edited_upper_limit_the_statement_holds(client):
    """within_upper_limit writes the limit into the SQL: the statement is kept per knowledge
    version, so an edited limit narrows the next page."""
    url = f"{PRODUCTS}?within_upper_limit=eu&ordering=-elemental_mg_per_day"
    before = {row["gtin"] for row in all_results(client, url)}
    limit = population_knowledge().population_limits["adult", "eu"]
    limit.amount_mg = Decimal(100)
    limit.save()

    after = all_results(client, url)

    assert {row["gtin"] for row in after} < before
    assert all(row["elemental_mg_per_day"] <= 100 for row in after)


def test_compiled_list_keeps_no_more_shapes_than_its_bound(monkeypatch):
    monkeypatch.setattr(list_statement, "MAX_SHAPES", 1)
    catalogue_page_rows(validated("vegan=true"), published_products(), CATALOGUE_PAGE)
    catalogue_page_rows(validated("vegan=false"), published_products(), CATALOGUE_PAGE)
    catalogue_page_rows(validated("lactose_free=true"), published_products(), CATALOGUE_PAGE)

    assert len(list_statement.statements_kept()) == 1


def test_compiled_list_leaves_out_a_product_unpublished_between_its_two_steps(monkeypatch):
    """On PostgreSQL the page reads its ids, then their rows: a product unpublished in
    between is left out, never shown as the draft it has become."""
    CatalogueGenerator(seed=4, brands=3, report=quiet).generate(30)
    page = catalogue_page_rows(validated("vegan=true"), published_products(), CATALOGUE_PAGE)
    if page.ids_statement is None:
        pytest.skip("SQLite reads a page in one statement")
    expected = page[0:10]
    gone = expected[3]["gtin"]
    rows_by_id = page.rows_by_id.rows

    def unpublished_first(alias, ids):
        Product.objects.filter(gtin=gone).update(status=ProductStatus.DRAFT)
        return rows_by_id(alias, ids)

    monkeypatch.setattr(page.rows_by_id, "rows", unpublished_first)
    rows = page[0:10]

    assert [row["gtin"] for row in rows] == [row["gtin"] for row in expected if row["gtin"] != gone]
    assert {row["status"] for row in rows} == {"published"}
