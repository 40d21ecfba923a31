import pytest
from django.core.cache import cache

from compounds.knowledge_base import load_knowledge_base
from formulary.common.read_cache import LOCAL_ANSWERS
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
    """Transactional tests run last, the browser tests at the very end: the flush after each
    empties every table, which the tests after them would otherwise find."""

    def rank(item):
        if item.get_closest_marker("browser") is not None:
            return 2
        names = getattr(item, "fixturenames", ())
        return 1 if "transactional_db" in names or "committed_knowledge" in names else 0

    items.sort(key=rank)


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
    """Each test starts with empty caches, the shared one and this process's copies: cached
    reads must not outlive a rolled-back test."""
    cache.clear()
    LOCAL_ANSWERS.clear()


@pytest.fixture
def page_queries() -> int:
    """The queries of one page of the product list: on PostgreSQL its ids, then their rows
    (products.api.list_statement); elsewhere one."""
    from django.db import router

    from products.api.list_statement import reads_in_two_steps
    from products.models import Product

    return 2 if reads_in_two_steps(router.db_for_read(Product)) else 1
