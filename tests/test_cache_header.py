"""X-App-Cache says whether an answer came from the response cache: the benchmark's hit ratio."""

import pytest

from products.models import Product

pytestmark = pytest.mark.django_db


def test_x_cache_is_miss_then_hit_then_miss_after_a_write(client):
    url = "/api/v1/compounds/magnesium-bisglycinate/"

    first, second = client.get(url), client.get(url)
    # Withdrawn, the product leaves the compound's product_count (a price edit would not).
    product = Product.objects.filter(
        status="published", ingredients__compound__slug="magnesium-bisglycinate"
    ).first()
    product.status = "discontinued"
    product.save()
    after_write = client.get(url)

    answers = [first, second, after_write]
    assert [answer["X-App-Cache"] for answer in answers] == ["miss", "hit", "miss"]
    assert second.content == first.content


def test_an_options_request_first_is_not_served_to_the_next_read(client):
    url = "/api/v1/products/match/?indication=sleep&fields=gtin&page_size=1"

    options = client.options(url)
    read = client.get(url)

    assert options.status_code == 200
    assert read["X-App-Cache"] == "miss"
    assert [set(row) for row in read.json()["results"]] == [{"gtin"}]
