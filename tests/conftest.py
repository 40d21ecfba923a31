import pytest
from django.core.cache import cache

from compounds.knowledge_base import load_knowledge_base
from products.demo import load_demo_products


def quiet(*_args):
    """Swallows the loaders' progress lines."""


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the real knowledge base and the demo catalogue."""
    with django_db_blocker.unblock():
        load_knowledge_base(report=quiet)
        load_demo_products(report=quiet)


def pytest_collection_modifyitems(items):
    """Browser tests run last: their live server empties every table when it stops, which
    the tests after them would otherwise find."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def api_throttling_off(settings):
    """The suite sends hundreds of requests from one address within a minute; the throttle
    tests switch the limits back on with rates of their own."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: cached reads must not outlive a rolled-back test."""
    cache.clear()
