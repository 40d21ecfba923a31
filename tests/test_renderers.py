"""The API's JSON renderer (config.renderers): the bytes DRF's own renderer would write."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from config.renderers import OrjsonRenderer
from tests.test_response_shape import READS

pytestmark = pytest.mark.django_db

ERRORS = [
    "/api/v1/products/?indication=flying",
    "/api/v1/products/0000000000000/",
    "/api/v1/products/match/",
    "/api/v1/calculate/elemental/?formula=NaCl",
]


@pytest.mark.parametrize("url", READS + ERRORS)
def test_renderer_writes_the_answers_bytes_as_drf_would(client, url):
    cache.clear()  # a rendered answer, not a stored one: only it carries its data

    response = client.get(url)

    assert response.content == JSONRenderer().render(response.data)


def test_renderer_writes_decimals_dates_lazy_texts_and_line_separators_as_drf_would():
    data = {
        "mg": Decimal("56.25"),
        "small": Decimal("0.125"),
        "at": datetime.datetime(2026, 12, 1, 15, 4, 5, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 12, 1),
        "text": gettext_lazy("key"),
        "separators": "a\u2028b\u2029c",
        7: "an int key",
        "none": None,
    }

    with translation.override("nl"):
        written = OrjsonRenderer().render(data)
        expected = JSONRenderer().render(data)

    assert written == expected
    assert b'"mg":56.25' in written
    assert b'"text":"sleutel"' in written
    assert b"a\\u2028b\\u2029c" in written


def test_renderer_with_indent_asked_indents_as_drf_does():
    data = {"a": [1, 2]}
    media = "application/json; indent=2"

    assert OrjsonRenderer().render(data, media) == JSONRenderer().render(data, media)
    assert OrjsonRenderer().render(None) == b""
