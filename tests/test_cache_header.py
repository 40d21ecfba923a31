"""X-App-Cache says whether an answer came from the response cache: the benchmark's hit ratio."""

from decimal import Decimal

import pytest

from products.models import Product

pytestmark = pytest.mark.django_db


def test_x_cache_is_miss_then_hit_then_miss_after_a_write(client):
    url = "/api/v1/compounds/magnesium-bisglycinate/"

    first, second = client.get(url), client.get(url)
    product = Product.objects.filter(status="published").first()
    product.price_eur = Decimal("12.34")
    product.save()
    after_write = client.get(url)

    answers = [first, second, after_write]
    assert [answer["X-App-Cache"] for answer in answers] == ["miss", "hit", "miss"]
    assert second.content == first.content
