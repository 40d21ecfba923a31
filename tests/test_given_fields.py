"""The filter forms clean only the parameters a request gives
(formulary.common.api_fields.GivenFieldsForm): every answer and every refusal is the one a
plain Django form gives."""

import random

import pytest
from django import forms
from django.http import QueryDict

from compounds.filters import CompoundFilter
from products.api.filters import ProductFilter
from products.api.match_filters import MatchFilter
from tests.test_list_statement import filter_vocabulary, random_filters

pytestmark = pytest.mark.django_db

MATCH = "/api/v1/products/match/"


def plain_form(filterset_class, data: QueryDict) -> forms.Form:
    """The form Django itself would make of the filterset's fields: every field cleaned."""
    fields = {name: filter_.field for name, filter_ in filterset_class.base_filters.items()}
    return type("PlainForm", (forms.Form,), fields)(data)


def lean_form(filterset_class, data: QueryDict) -> forms.Form:
    return filterset_class(data).form


def outcome(form: forms.Form):
    return (form.cleaned_data, None) if form.is_valid() else (None, form.errors.get_json_data())


@pytest.mark.parametrize("filterset_class", [ProductFilter, MatchFilter])
def test_filter_form_cleans_generated_queries_as_a_plain_form(filterset_class):
    rng = random.Random(7)
    vocabulary = filter_vocabulary()
    refused = 0
    for _ in range(60):
        query = QueryDict(mutable=True)
        query.update(random_filters(rng, *vocabulary))
        if rng.random() < 0.2:
            # Some values the fields refuse, given and then omitted in the next query.
            query[rng.choice(["dosage_form", "min_elemental_mg", "vegan"])] = "nonsense"
        data = QueryDict(query.urlencode())
        expected = outcome(plain_form(filterset_class, data))
        assert outcome(lean_form(filterset_class, data)) == expected, data
        refused += expected[1] is not None
    # MatchFilter refuses every query without an indication, each time it is asked.
    assert refused >= 10


def test_filter_form_gives_each_request_its_own_empty_list():
    # The first request after the class is made is the one whose values are kept.
    form_class = ProductFilter.shared_form_class()
    if "omitted_values" in vars(form_class):
        del form_class.omitted_values
    first = lean_form(ProductFilter, QueryDict("vegan=true"))
    assert first.is_valid()
    first.cleaned_data["dosage_form"].append("capsule")
    second = lean_form(ProductFilter, QueryDict("vegan=true"))
    assert second.is_valid()
    assert second.cleaned_data["dosage_form"] == []


def test_filter_form_cleans_a_parameter_given_after_it_was_omitted():
    assert lean_form(CompoundFilter, QueryDict("")).is_valid()
    given = lean_form(CompoundFilter, QueryDict("classification=organic"))
    assert given.is_valid()
    assert given.cleaned_data["classification"] == ["organic"]
    refused = lean_form(CompoundFilter, QueryDict("classification=unknown-kind"))
    assert not refused.is_valid()
    assert refused.errors.get_json_data()["classification"][0]["code"] == "unknown_slug"


def test_match_without_indication_is_refused_every_time(client):
    answers = [client.get(MATCH, {"vegan": "true", "lang": "en"}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [400, 400]
    details = answers[1].json()["error"]["details"]
    assert [(d["field"], d["code"]) for d in details] == [("indication", "required")]
    assert answers[0].json() == answers[1].json()
