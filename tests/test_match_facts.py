"""Match results carry their reasons' facts as data, and the data say what the sentences say."""

from decimal import Decimal

import pytest

from formulary.citations import short_citation
from formulary.models import Reference

pytestmark = pytest.mark.django_db

MATCH = "/api/v1/products/match/"


def number(value: float) -> str:
    """A number as the English sentences print it: no trailing zeros."""
    return format(Decimal(str(value)).normalize(), "f")


@pytest.fixture
def results(client):
    body = client.get(f"{MATCH}?indication=sleep,stress,sport&page_size=100&lang=en").json()
    assert body["results"]
    return body["results"]


def test_match_evidence_facts_name_what_each_evidence_reason_says(results):
    for result in results:
        facts = result["evidence"]

        assert [fact["indication"] for fact in facts] == result["covered_indications"]
        for fact, reason in zip(facts, result["reasons"], strict=False):
            basis = "carrier-based" if fact["basis"] == "carrier" else "magnesium-based"
            assert f"(evidence {fact['grade']}, {basis}; " in reason
            for key in fact["references"]:
                assert short_citation(Reference.objects.get(key=key)) in reason


def test_match_figures_are_the_numbers_the_sentences_state(results):
    for result in results:
        figures = result["figures"]
        per_day = number(figures["elemental_mg_per_day"])
        low, high = map(number, figures["effective_range_mg"])

        assert figures["elemental_mg_per_day"] == result["elemental_mg_per_day"]
        assert (
            f"{per_day} mg elemental magnesium a day is {figures['dose_position']} the "
            f"effective range of {low}-{high} mg"
        ) in result["reasons"]
        where = "above" if figures["upper_limit_exceeded"] else "within"
        assert (
            f"{per_day} mg elemental magnesium a day is {where} the EU supplemental upper "
            f"limit of {number(figures['upper_limit_mg'])} mg"
        ) in result["reasons"]
        assert any(
            reason.startswith(f"Laxative tendency {figures['laxative_tendency']} (")
            for reason in result["reasons"]
        )
        price = figures["euro_per_100mg_elemental"]
        expected = "No price known" if price is None else f"€{number(price)} per 100 mg"
        assert any(reason.startswith(expected) for reason in result["reasons"])


def test_match_figures_headroom_follows_the_jurisdiction(client):
    body = client.get(f"{MATCH}?indication=sleep&jurisdiction=us&page_size=5").json()

    for result in body["results"]:
        figures = result["figures"]
        assert figures["jurisdiction"] == "us"
        assert figures["upper_limit_mg"] == 350
        assert figures["percent_of_upper_limit"] == pytest.approx(
            result["elemental_mg_per_day"] * 100 / 350, abs=0.06
        )
