"""The match's ranking, compiled once per shape (products.api.match_statement), gives the
results the queryset's ranking gives: the same products, order, scores, brands and lines."""

import random
from decimal import Decimal

import pytest
from django.http import QueryDict

from formulary.models import Indication
from products.api import match_statement
from products.api.match import ProductMatchView
from products.api.match_filters import MatchFilter
from products.api.match_statement import CompiledCandidates, candidates_for
from products.catalogue_generator import BRAND_SLUG_PREFIX, CatalogueGenerator
from products.knowledge import population_knowledge
from products.matching.ranking import points_field, ranked_matches, top_matches
from products.matching.weights import HEADROOM_WEIGHT
from products.models import Brand
from products.populations import population_for
from products.selectors import indication_pattern
from tests.test_list_statement import quiet
from tests.test_top_matches import tied_products

pytestmark = pytest.mark.django_db

INDICATIONS = ["sleep", "sport", "stress", "energy", "cramps", "heart-vessels"]


def validated(query: str) -> MatchFilter:
    filterset = MatchFilter(QueryDict(query), queryset=ProductMatchView().get_queryset())
    assert filterset.is_valid(), filterset.errors
    return filterset


def options(filterset: MatchFilter) -> dict:
    """What the view gives ``top_matches`` for the filterset's indications and population."""
    cleaned = filterset.form.cleaned_data
    jurisdiction = cleaned.get("jurisdiction") or "eu"
    populations = population_knowledge()
    population = population_for(populations, cleaned.get("population"))
    limit = populations.population_limits[population.slug, jurisdiction]
    adult = populations.population_limits["adult", jurisdiction]
    return {
        "indication_ids": [Indication.objects.get(slug=s).pk for s in cleaned["indication"]],
        "jurisdiction": jurisdiction,
        "limit_mg": limit.amount_mg if limit else None,
        "headroom_slack": 0.0 if limit == adult else float(HEADROOM_WEIGHT),
    }


def summary(products) -> list[tuple]:
    return [
        (
            p.gtin,
            p.match_score,
            p.brand.slug,
            p.name,
            p.elemental_mg_per_day,
            p.price_eur,
            p.line_compounds,
        )
        for p in products
    ]


def full_ranking(filterset: MatchFilter, count: int) -> list:
    """The queryset's ranking of every match, cut at ``count``: what the pages must equal."""
    asked = options(filterset)
    ranking = ranked_matches(
        filterset.filter_queryset(ProductMatchView().get_queryset()),
        indication_ids=asked["indication_ids"],
        limit_mg=asked["limit_mg"],
        with_lines=True,
    )
    return list(ranking[:count])


def random_match_query(rng: random.Random, brands: list[str]) -> dict:
    """Indications with some of the catalogue's filters and the match's own options."""
    choices = {
        "dosage_form": lambda: ",".join(rng.sample(["capsule", "tablet", "powder"], 2)),
        "brand": lambda: ",".join(rng.sample(brands, rng.randint(2, 8))),
        "compound": lambda: ",".join(
            rng.sample(["magnesium-bisglycinate", "magnesium-oxide", "magnesium-taurate"], 2)
        ),
        "min_elemental_mg": lambda: rng.choice(["50", "100.5", "150"]),
        "max_daily_elemental_mg": lambda: rng.choice(["250", "400", "612.5"]),
        "vegan": lambda: rng.choice(["true", "false"]),
        "exclude_laxative": lambda: "true",
        "within_upper_limit": lambda: rng.choice(["eu", "us"]),
        "medication": lambda: rng.choice(["levothyroxine", "ciprofloxacin,alendronate"]),
        "jurisdiction": lambda: rng.choice(["eu", "us"]),
        "population": lambda: rng.choice(["adult", "child-9-13", "pregnancy"]),
    }
    names = rng.sample(sorted(choices), rng.randint(0, 4))
    query = {name: choices[name]() for name in names}
    query["indication"] = ",".join(rng.sample(INDICATIONS, rng.randint(1, 3)))
    if rng.random() < 0.25:
        query["indication_match"] = "all"
    return query


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_match_equals_the_querysets_ranking_for_generated_queries(seed):
    CatalogueGenerator(seed=seed, brands=12, report=quiet).generate(400)
    tied_products()
    rng = random.Random(seed)
    brands = sorted(
        Brand.objects.filter(slug__startswith=BRAND_SLUG_PREFIX).values_list("slug", flat=True)
    )
    nonempty = 0
    for _ in range(30):
        query = QueryDict(mutable=True)
        query.update(random_match_query(rng, brands))
        filterset = validated(query.urlencode())
        candidates = candidates_for(filterset, ProductMatchView().get_queryset())
        assert isinstance(candidates, CompiledCandidates), query
        for count in (1, 21, rng.randint(30, 120)):
            page = top_matches(candidates, **options(filterset), count=count)
            assert summary(page) == summary(full_ranking(filterset, count)), (query, count)
            nonempty += bool(page)
    assert nonempty > 40


def test_compiled_match_serves_other_values_with_the_statement_of_their_shape(
    django_assert_num_queries,
):
    CatalogueGenerator(seed=5, brands=6, report=quiet).generate(200)
    first = validated("indication=sleep,sport&dosage_form=capsule&min_elemental_mg=100")
    other = validated("indication=stress,energy&dosage_form=tablet&min_elemental_mg=50.5")

    def ranked(filterset, asked):
        return candidates_for(filterset, filterset.queryset).best_ranked(
            indication_ids=asked["indication_ids"],
            limit_mg=asked["limit_mg"],
            floors=None,
            count=21,
        )

    ranked(first, options(first))
    kept = len(match_statement.statements_kept())
    asked = options(other)
    # The knowledge version (outside a request nothing has read it yet) and the ranking.
    with django_assert_num_queries(2):
        page = ranked(other, asked)

    assert len(match_statement.statements_kept()) == kept
    assert page and {p.dosage_form for p in page} == {"tablet"}
    assert summary(page) == summary(full_ranking(other, 21))


def test_compiled_match_keys_indication_match_but_not_the_medications():
    any_of = candidates_for(validated("indication=sleep,sport"), None)
    all_of = candidates_for(validated("indication=sleep,sport&indication_match=all"), None)
    with_medication = candidates_for(
        validated("indication=sleep,sport&medication=levothyroxine&renal=severe"), None
    )
    ids = [Indication.objects.get(slug=slug).pk for slug in ("sleep", "sport")]

    assert any_of.key == with_medication.key == ()
    assert any_of.values == []
    assert all_of.key == (("indication", 2), ("indication_match", "all"))
    # all: each indication filters as the list's does, by its pattern in the stored links.
    assert all_of.values == [indication_pattern(pk) for pk in ids]


def test_compiled_match_leaves_a_search_to_the_queryset():
    CatalogueGenerator(seed=6, brands=4, report=quiet).generate(100)
    filterset = validated("indication=sleep&search=citr")

    candidates = candidates_for(filterset, ProductMatchView().get_queryset())

    assert not isinstance(candidates, CompiledCandidates)
    page = top_matches(candidates, **options(filterset), count=21)
    assert summary(page) == summary(full_ranking(filterset, 21))


def test_compiled_match_with_no_reachable_signature_runs_no_ranking():
    CatalogueGenerator(seed=7, brands=4, report=quiet).generate(50)
    filterset = validated("indication=sleep")
    candidates = candidates_for(filterset, ProductMatchView().get_queryset())

    found = candidates.best_ranked(
        indication_ids=options(filterset)["indication_ids"],
        limit_mg=Decimal(250),
        floors=(points_field("eu"), []),
        count=21,
    )

    assert found == []


def test_compiled_match_ranks_an_uncompilable_shape_with_the_queryset(monkeypatch):
    CatalogueGenerator(seed=8, brands=4, report=quiet).generate(150)

    def refuse(*_args):
        raise ValueError("a marker missing from the statement")

    monkeypatch.setattr(match_statement, "compile_statement", refuse)
    # Shapes compiled by an earlier test under the same knowledge version would be reused.
    match_statement.statements_kept().clear()
    filterset = validated("indication=sleep,sport&vegan=true")
    candidates = candidates_for(filterset, ProductMatchView().get_queryset())

    page = top_matches(candidates, **options(filterset), count=21)

    assert page and summary(page) == summary(full_ranking(filterset, 21))
    kept = match_statement.statements_kept()
    assert match_statement.UNCOMPILABLE in kept.values()
