"""Admin login lockout, API throttling and the security headers of the admin and docs pages."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.utils import translation
from rest_framework.exceptions import Throttled

from config.errors import api_exception_handler

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "a-long-staff-password"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        username="pharmacist", password=PASSWORD, is_staff=True
    )


def log_in(client, password, address="198.51.100.7"):
    return client.post(
        LOGIN,
        {"username": "pharmacist", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_login_locked_out_after_the_failure_limit_even_with_the_right_password(
    client, staff, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert log_in(client, "wrong").status_code == 200

    locked = log_in(client, "wrong")
    still_locked = log_in(client, PASSWORD)

    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "900"
    assert lockout_texts(locked) == [
        "Te veel mislukte aanmeldingen",
        "Te veel mislukte aanmeldingen vanaf dit adres voor dit account.",
        "Probeer het over 15 minuten opnieuw.",
    ]
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session


def lockout_texts(response) -> list[str]:
    """The heading and the two sentences of the lockout page."""
    page = response.content.decode()
    heading = re.search(r"<h1>(.*?)</h1>", page).group(1)
    error = re.search(r'<p class="errornote">(.*?)</p>', page).group(1)
    next_step = re.search(r'<p class="errornote">.*?</p>\s*<p>(.*?)</p>', page, re.S).group(1)
    return [heading, error, next_step]


def test_login_lockout_page_speaks_the_readers_language_and_counts_one_minute(
    client, staff, settings
):
    settings.AXES_FAILURE_LIMIT = 1
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)

    locked = client.post(
        LOGIN,
        {"username": "pharmacist", "password": "wrong", "next": "/admin/"},
        REMOTE_ADDR="198.51.100.8",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "60"
    assert locked["Content-Type"] == "text/html; charset=utf-8"
    assert lockout_texts(locked) == [
        "Too many failed logins",
        "Too many failed logins from this address for this account.",
        "Try again in 1 minute.",
    ]


def test_login_lockout_without_a_cool_off_sends_the_user_to_an_administrator(
    client, staff, settings
):
    settings.AXES_FAILURE_LIMIT = 1
    settings.AXES_COOLOFF_TIME = None

    locked = log_in(client, "wrong")

    assert locked.status_code == 429
    assert "Retry-After" not in locked.headers
    assert lockout_texts(locked)[2] == "Vraag een beheerder het account te ontgrendelen."


def test_login_lockout_is_per_address_so_others_can_still_log_in(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    log_in(client, "wrong")
    log_in(client, "wrong")

    response = log_in(client, PASSWORD, address="203.0.113.9")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_login_lockout_ends_after_the_cool_off(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    log_in(client, "wrong")
    log_in(client, "wrong")
    # The attempt is now older than the cool-off: move it back instead of waiting.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )

    assert log_in(client, PASSWORD).status_code == 302


def test_successful_login_resets_the_failure_count(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    log_in(client, "wrong")
    log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()

    log_in(client, "wrong")

    assert log_in(client, "wrong").status_code == 200


def test_test_client_login_still_works_with_the_lockout_backend(client, staff):
    assert client.login(username="pharmacist", password=PASSWORD)
    assert not client.login(username="pharmacist", password="wrong")


THROTTLED_ADDRESS = "192.0.2.44"


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "3/min"},
    }
    yield
    cache.delete_many([f"throttle_{scope}_{THROTTLED_ADDRESS}" for scope in ("anon", "user")])


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Too many requests; try again in {wait} seconds."),
        # Not DRF's Dutch, "Aanvraag was verstikt. Expected available in ... seconds."
        ("nl", "Te veel verzoeken; probeer het over {wait} seconden opnieuw."),
    ],
)
def test_anonymous_client_over_the_rate_gets_429_envelope_with_retry_after(
    client, low_rates, language, message
):
    url = f"/api/v1/compounds/?lang={language}"
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR=THROTTLED_ADDRESS).status_code == 200

    response = client.get(url, REMOTE_ADDR=THROTTLED_ADDRESS)

    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    # The window is a minute from the first request (its whole length without Redis).
    assert 1 < wait <= 60
    assert response.json() == {
        "error": {
            "status": 429,
            "code": "throttled",
            "message": message.format(wait=wait),
            "details": [],
        }
    }


@pytest.mark.parametrize(
    ("language", "wait", "message"),
    [
        ("en", 1, "Too many requests; try again in 1 second."),
        ("nl", 1, "Te veel verzoeken; probeer het over 1 seconde opnieuw."),
        ("en", None, "Too many requests; try again later."),
        ("nl", None, "Te veel verzoeken; probeer het later opnieuw."),
    ],
)
def test_throttled_envelope_in_one_second_or_without_a_wait(language, wait, message):
    with translation.override(language):
        response = api_exception_handler(Throttled(wait), {"request": None})

    assert response.status_code == 429
    assert response.data == {
        "error": {"status": 429, "code": "throttled", "message": message, "details": []}
    }


def test_forged_forwarded_for_does_not_escape_the_throttle(client, low_rates):
    url = "/api/v1/indications/"
    statuses = [
        client.get(
            url, REMOTE_ADDR=THROTTLED_ADDRESS, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(5)
    ]

    assert statuses == [200, 200, 200, 429, 429]


def test_throttling_switched_off_lets_every_request_through(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }

    statuses = {client.get("/api/v1/indications/").status_code for _ in range(10)}

    assert statuses == {200}


@pytest.mark.parametrize(
    ("value", "rate"), [("1200/min", "1200/min"), ("off", None), (" OFF ", None)]
)
def test_throttle_rate_from_the_environment(monkeypatch, value, rate):
    from config.settings import env_rate

    monkeypatch.setenv("API_THROTTLE_ANON", value)

    assert env_rate("API_THROTTLE_ANON", default="1/s") == rate


def test_throttle_rate_that_is_not_a_rate_fails_loudly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import env_rate

    monkeypatch.setenv("API_THROTTLE_USER", "lots")

    with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_USER"):
        env_rate("API_THROTTLE_USER", default="1/s")


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize("url", [LOGIN, "/api/v1/docs/"])
def test_admin_and_docs_pages_carry_the_security_headers(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    policy = dict(
        directive.split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split("; ")
    )
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


def test_docs_page_loads_every_script_from_a_url_the_policy_allows(client):
    page = client.get("/api/v1/docs/").content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
    sources = [re.search(r'src="([^"]+)"', attributes).group(1) for attributes, _ in scripts]
    assert all(not body.strip() for _, body in scripts), "inline scripts would be blocked"
    assert [s.rsplit("/", 1)[-1] for s in sources[:2]] == [
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    ]
    assert all(s.startswith("/") for s in sources)
    start_up = client.get(sources[2].replace("&amp;", "&"))
    assert start_up.status_code == 200
    assert "SwaggerUIBundle" in start_up.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in page
