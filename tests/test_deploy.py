"""Deployment: the replica router, the probes and the production settings profile."""

import gc
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory

from config.routers import PrimaryForWritesMiddleware, PrimaryReplicaRouter, primary_pinned
from products.models import Product

ROOT = Path(__file__).resolve().parent.parent
router = PrimaryReplicaRouter()


def test_router_sends_reads_to_the_replica_and_writes_to_the_primary():
    assert router.db_for_read(Product) == "replica"
    assert router.db_for_write(Product) == "default"


def test_router_migrates_only_the_primary():
    assert router.allow_migrate("default", "products")
    assert not router.allow_migrate("replica", "products")


@pytest.mark.django_db
def test_router_reads_from_the_primary_inside_a_transaction():
    with transaction.atomic():
        assert router.db_for_read(Product) == "default"


@pytest.mark.parametrize(
    ("method", "path", "pinned"),
    [
        ("get", "/api/v1/products/", False),
        ("head", "/api/v1/compounds/", False),
        ("get", "/admin/products/product/", True),
        ("post", "/api/v1/products/", True),
        ("delete", "/api/v1/products/2073100011373/", True),
    ],
)
def test_router_middleware_pins_the_primary_for_the_admin_and_writes(method, path, pinned):
    seen = []
    middleware = PrimaryForWritesMiddleware(
        lambda request: seen.append(router.db_for_read(Product))
    )

    middleware(getattr(RequestFactory(), method)(path))

    assert seen == ["default" if pinned else "replica"]
    assert primary_pinned.get() is False


def test_healthz_answers_without_the_database(client):
    """No django_db mark: any database access would fail this test."""
    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readyz_answers_when_database_and_cache_answer(client):
    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ready", "cache": "ok"})


@pytest.mark.django_db
def test_readyz_without_a_working_cache_stays_ready_and_says_so(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (
        200,
        {"status": "ready", "cache": "unavailable"},
    )


@pytest.mark.django_db
def test_readyz_without_a_database_is_a_503_envelope_with_retry_after(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert response.json()["error"]["code"] == "not_ready"
    assert {d["code"] for d in response.json()["error"]["details"]} == {"database_unavailable"}


def manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DJANGO_ENV", "REDIS_URL", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**environment, **env},
        check=False,
    )


def test_production_profile_passes_the_deploy_check_without_warnings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY="k3y-" + "x9Qz!" * 12,
        ALLOWED_HOSTS="api.example",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_profile_without_secret_key_refuses_to_start():
    result = manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="api.example")

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_redis_url_selects_the_redis_cache_and_its_absence_local_memory():
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"

    with_redis = manage("shell", "-c", show, REDIS_URL="redis://127.0.0.1:6379/5")
    without = manage("shell", "-c", show)

    assert with_redis.stdout.split()[-1] == "config.redis_cache.RedisCacheWithBreaker"
    assert without.stdout.split()[-1] == "django.core.cache.backends.locmem.LocMemCache"


def test_gunicorn_freezes_what_the_master_loaded_before_each_fork():
    config = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    try:
        gc.unfreeze()
        config["pre_fork"](server=None, worker=None)
        # Every object alive now, the loaded project's among them, is out of the collector's way.
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()


def test_gunicorn_gives_each_worker_its_own_socket_only_when_asked(monkeypatch):
    path = str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")
    monkeypatch.delenv("GUNICORN_REUSE_PORT", raising=False)
    assert runpy.run_path(path)["reuse_port"] is False

    monkeypatch.setenv("GUNICORN_REUSE_PORT", "true")
    assert runpy.run_path(path)["reuse_port"] is True
