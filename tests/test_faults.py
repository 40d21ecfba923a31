"""A database that stops answering gives clean 503s with Retry-After, never a 500 with a trace.

The outage is simulated by making every new cursor fail as psycopg does when PostgreSQL is
down; bench/fault stops a real PostgreSQL under load.
"""

import json
import select

import pytest
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)
from django.test import RequestFactory

from config.errors import server_error

pytestmark = pytest.mark.django_db

OUTAGE = {
    "body": {
        "error": {
            "status": 503,
            "code": "database_unavailable",
            "message": "The database is unavailable; retry shortly.",
            "details": [],
        }
    },
    "retry_after": "5",
}


@pytest.fixture(
    params=[
        OperationalError(
            'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
        ),
        InterfaceError("connection already closed"),
    ],
    ids=["unreachable", "connection-closed"],
)
def database_down(request, monkeypatch):
    def refuse(*args, **kwargs):
        raise request.param

    monkeypatch.setattr(connection, "cursor", refuse)
    if hasattr(connection, "prepared_cursor"):  # config.postgresql's, for prepared statements
        monkeypatch.setattr(connection, "prepared_cursor", refuse)
    yield
    monkeypatch.undo()


def assert_outage_answer(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == OUTAGE["retry_after"]
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.content) == OUTAGE["body"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/",
        "/api/v1/products/2073300015485/",
        "/api/v1/compounds/",
        "/api/v1/indications/sleep/",
    ],
)
def test_api_view_without_database_answers_503_envelope(client, url, database_down):
    assert_outage_answer(client.get(url))


def test_calculator_needs_no_database_and_keeps_answering(client, database_down):
    assert client.get("/api/v1/calculate/elemental/?formula=MgO&amount_mg=1").status_code == 200


def test_admin_page_without_database_answers_503_envelope(client, admin_user, monkeypatch):
    client.force_login(admin_user)

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/admin/products/product/")
    monkeypatch.undo()

    assert_outage_answer(response)


def test_outage_raised_outside_any_view_is_a_503_from_the_500_handler():
    request = RequestFactory().get("/admin/")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = server_error(request)

    assert_outage_answer(response)


def test_other_server_errors_stay_a_500_envelope():
    request = RequestFactory().get("/admin/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(request)

    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_api_answers_again_once_the_database_is_back(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    assert client.get("/api/v1/indications/").status_code == 503
    monkeypatch.undo()

    assert client.get("/api/v1/indications/").status_code == 200


def terminate_server_side(wrapper) -> None:
    """What a restart or an idle timeout does to ``wrapper``'s connection: the server ends its
    backend, from another connection, and the farewell arrives on the socket."""
    pid = wrapper.connection.info.backend_pid
    other = connections.create_connection(wrapper.alias)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    waiting = select.poll()
    waiting.register(wrapper.connection.pgconn.socket, select.POLLIN)
    assert waiting.poll(5000), "the server's farewell never arrived"


def refuse_round_trips(*args, **kwargs):
    raise AssertionError("the health check asked the server")


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the health check of config.postgresql"
)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_health_check_of_an_idle_connection_asks_the_server_nothing(monkeypatch):
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "cursor", refuse_round_trips)
    monkeypatch.setattr(connection.connection, "execute", refuse_round_trips)

    assert connection.is_usable()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_connection_the_server_closed_is_replaced_before_a_request_uses_it():
    connection.ensure_connection()
    terminated = connection.connection.info.backend_pid
    terminate_server_side(connection)

    assert not connection.is_usable()
    # What Django runs when a request starts; the first query then checks the connection.
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection.info.backend_pid != terminated
