"""The bounded top-k of products/match/ (products.matching.ranking.top_matches) gives exactly
the full ranking's first results, in the same order, on generated catalogues with ties."""

import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from compounds.models import CompoundForm
from formulary.models import Indication
from formulary.selectors import adult_upper_limit
from products.api.match import ProductMatchView
from products.api.match_filters import MatchFilter
from products.catalogue_generator import BRAND_SLUG_PREFIX
from products.enums import AmountBasis, ProductStatus
from products.gtin import gs1_check_digit
from products.matching import ranking
from products.matching.ranking import ranked_matches, signature_evidence, top_matches
from products.matching.weights import HEADROOM_WEIGHT
from products.models import Brand, ProductIndication
from products.services import IngredientInput, product_upsert
from tests.test_matching import make_compound, make_product

pytestmark = pytest.mark.django_db

TIED_COPIES = 12


def tied_products():
    """Products equal in everything the score reads, so only their GTINs order them; some
    share the best composition of sleep and sport, so the ties reach the top of the page."""
    brand = Brand.objects.create(slug=f"{BRAND_SLUG_PREFIX}ties", name="Ties")
    compositions = [
        ["magnesium-bisglycinate"],
        ["magnesium-bisglycinate", "magnesium-citrate-tri-anhydrous", "magnesium-taurate"],
    ]
    serial = 0
    for slugs in compositions:
        for _copy in range(TIED_COPIES):
            serial += 1
            data = f"29900{serial:07d}"
            product_upsert(
                gtin=f"{data}{gs1_check_digit(data)}",
                fields={
                    "brand": brand,
                    "name": f"Tie {serial}",
                    "dosage_form": "capsule",
                    "units_per_package": 120,
                    "units_per_serving": Decimal(1),
                    "servings_per_day": Decimal(2),
                    "status": ProductStatus.PUBLISHED,
                    "price_eur": Decimal("14.95"),
                    "vegan": True,
                },
                ingredients=[
                    IngredientInput(
                        compound=CompoundForm.objects.get(slug=slug),
                        amount_mg=Decimal(120) / len(slugs),
                        amount_basis=AmountBasis.ELEMENTAL,
                    )
                    for slug in slugs
                ],
                nutrients=[],
            )


@pytest.fixture
def catalogue():
    call_command("generate_catalog", products=1500, seed=11, brands=20, stdout=io.StringIO())
    tied_products()


def filtered(query: str):
    filterset = MatchFilter(QueryDict(query), queryset=ProductMatchView().get_queryset())
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def ranking_options(query: str, jurisdiction: str) -> dict:
    slugs = QueryDict(query)["indication"].split(",")
    return {
        "indication_ids": [Indication.objects.get(slug=slug).pk for slug in slugs],
        "limit_mg": adult_upper_limit(jurisdiction).amount_mg,
    }


def top(query: str, jurisdiction: str, count: int):
    """``top_matches`` as products/match/ calls it for adults."""
    return top_matches(
        filtered(query),
        **ranking_options(query, jurisdiction),
        jurisdiction=jurisdiction,
        count=count,
    )


def both_rankings(query: str, jurisdiction: str, count: int):
    full = ranked_matches(filtered(query), **ranking_options(query, jurisdiction))
    return list(full[:count]), top(query, jurisdiction, count)


def order(products):
    return [(product.gtin, round(product.match_score, 6)) for product in products]


QUERIES = [
    "indication=sleep",
    "indication=sleep,sport",
    "indication=heart-vessels,sport,energy",
    "indication=sleep,sport&dosage_form=capsule&vegan=true",
    "indication=sleep,stress&min_elemental_mg=150&max_daily_elemental_mg=400",
    "indication=sleep,sport&exclude_laxative=true&within_upper_limit=eu",
    "indication=sleep,sport&indication_match=all",
    "indication=cramps&dosage_form=liquid",
]


@pytest.mark.parametrize("query", QUERIES)
def test_top_matches_equal_the_full_ranking_with_ties(catalogue, query):
    for jurisdiction in ["eu", "us"]:
        for count in [1, 5, 21, 41, 400]:
            full, top_k = both_rankings(query, jurisdiction, count)

            assert order(top_k) == order(full), (jurisdiction, count)
            assert [p.match_score for p in top_k] == [p.match_score for p in full]


def test_top_matches_with_a_populations_headroom_slack_equal_the_full_ranking(catalogue):
    """Another population's limit moves each product's points by up to the headroom weight:
    the floors allow for it, and the page is still the full ranking's."""
    query = "indication=sleep,stress"
    options = {**ranking_options(query, "eu"), "limit_mg": Decimal(65)}
    full = list(ranked_matches(filtered(query), **options)[:21])

    top_k = top_matches(
        filtered(query),
        **options,
        jurisdiction="eu",
        count=21,
        headroom_slack=float(HEADROOM_WEIGHT),
    )

    assert order(top_k) == order(full)


def test_evidence_signature_of_every_row_is_its_products_evidence(catalogue):
    """The signature, on each of a product's rows, says exactly what its rows say."""
    evidence = defaultdict(dict)
    rows = ProductIndication.objects.values_list(
        "product_id", "indication_id", "evidence_strength", "evidence_signature"
    )
    for product_id, indication_id, strength, _signature in rows:
        evidence[product_id][indication_id] = strength

    assert rows.count() > 1500
    for product_id, _indication_id, _strength, signature in rows:
        assert signature_evidence(signature) == evidence[product_id], product_id


def test_evidence_signature_follows_a_products_new_compounds(catalogue):
    row = ProductIndication.objects.filter(indication__slug="sleep").first()
    product = row.product
    product_upsert(
        gtin=product.gtin,
        fields={},
        ingredients=[
            IngredientInput(
                compound=CompoundForm.objects.get(slug="magnesium-citrate-tri-anhydrous"),
                amount_mg=Decimal(100),
                amount_basis=AmountBasis.ELEMENTAL,
            )
        ],
        nutrients=[],
    )

    rows = ProductIndication.objects.filter(product=product)
    assert rows.exists()
    expected = {r.indication_id: r.evidence_strength for r in rows}
    assert {signature_evidence(r.evidence_signature) == expected for r in rows} == {True}
    assert rows.first().evidence_signature != row.evidence_signature


def test_top_matches_catalogue_holds_ties_at_the_top(catalogue):
    """The equality above is tested where it is hardest: equal scores on the first page."""
    full, _top = both_rankings("indication=sleep,sport", "eu", 41)
    scores = [round(product.match_score, 6) for product in full]

    assert len(scores) - len(set(scores)) >= TIED_COPIES - 1
    assert scores.count(scores[0]) >= 2 or scores.count(scores[20]) >= 2


def ranking_queries(query: str, count: int) -> list[str]:
    """The rankings (grouped queries) that ``top_matches`` runs for ``query``."""
    with CaptureQueriesContext(connection) as captured:
        top(query, "eu", count)
    return [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]


def test_top_matches_ranks_only_the_products_above_their_signatures_floors(catalogue):
    """A page is ranked from each signature's rows above its floor of points, not from all
    rows: one ranking, and fewer products than match. (5 results: in this small catalogue
    a signature's products are too few for the floors of a page of 21, which ranks all.)"""
    with CaptureQueriesContext(connection) as captured:
        found = top("indication=sleep,sport", "eu", 5)
    ranked = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]
    matching_products = (
        ProductIndication.objects.filter(indication__slug__in=["sleep", "sport"])
        .values("product_id")
        .distinct()
        .count()
    )

    assert len(found) == 5
    assert len(ranked) == 1
    assert '"evidence_signature" =' in ranked[0] and '"points_eu" >=' in ranked[0]
    # The others: the signatures with their best points, and how deep the best groups go.
    reading_rows = [
        q for q in captured.captured_queries if "products_productindication" in q["sql"]
    ]
    assert len(reading_rows) == 3
    assert matching_products > 4 * 5 * 2


def test_top_matches_find_a_signature_written_after_the_signatures_were_kept(catalogue):
    """The signatures are kept per catalogue version: a product write reads them again, so a
    composition no product had before is ranked, here at the top."""
    query = "indication=sleep,sport"
    links = [("sleep", "A", "magnesium"), ("sport", "A", "magnesium"), ("headache", "D", "carrier")]
    form = make_compound("test-new-signature", links=links)  # a knowledge write, before
    top(query, "eu", 5)
    product = make_product(1, [(form, 1)])  # a product write only

    full, top_k = both_rankings(query, "eu", 5)

    assert order(top_k) == order(full)
    assert top_k[0].gtin == product.gtin


def test_top_matches_past_the_kept_depths_limit_read_them_each_time(catalogue, monkeypatch):
    monkeypatch.setattr(ranking, "MAX_KEPT_DEPTHS", 0)

    full, top_k = both_rankings("indication=sleep,sport", "eu", 5)

    assert order(top_k) == order(full)
    assert not any(key[0] == "nth" for key in ranking.signatures_kept())


def test_top_matches_ranks_everything_when_the_filters_leave_too_few(catalogue):
    ranked = ranking_queries("indication=cramps&dosage_form=liquid&vegan=true", 400)

    assert ranked[-1].count('"points_eu" >=') == 0


def test_match_pages_follow_the_full_ranking(client, catalogue):
    """Page 2 through the API: the same products and order as the full ranking's 21st-40th."""
    full, _ = both_rankings("indication=sleep,sport", "eu", 40)

    response = client.get("/api/v1/products/match/?indication=sleep,sport&page=2")

    assert [row["gtin"] for row in response.json()["results"]] == [p.gtin for p in full[20:40]]


def test_top_matches_follow_a_changed_upper_limit(catalogue):
    """The stored points use the adult upper limit; changing it rebuilds them, so the bounded
    ranking still equals the full one under the new limit."""
    limit = adult_upper_limit("eu")
    before = sorted(ProductIndication.objects.values_list("pk", "points_eu"))
    limit.amount_mg = Decimal(300)
    limit.save()

    full, top_k = both_rankings("indication=sleep,sport", "eu", 21)

    assert sorted(ProductIndication.objects.values_list("pk", "points_eu")) != before
    assert order(top_k) == order(full)


def test_reloading_the_same_upper_limit_leaves_the_match_rows_alone(django_assert_max_num_queries):
    limit = adult_upper_limit("eu")

    # The save, its history row, the knowledge version, the limits before and after; no
    # DELETE and INSERT of every match row.
    with django_assert_max_num_queries(7) as captured:
        limit.save()

    assert not any("products_productindication" in q["sql"] for q in captured.captured_queries)
