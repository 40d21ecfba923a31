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


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: cached reads must not outlive a rolled-back test."""
    cache.clear()
