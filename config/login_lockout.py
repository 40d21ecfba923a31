"""Admin login lockout (django-axes): the backend and the answer a locked-out client gets."""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import HttpResponse


class LoginLockoutBackend(AxesStandaloneBackend):
    """Counts and blocks logins that come with a request. ``authenticate()`` without one (the
    test client's ``login()``, a shell) has no client address to lock, so it passes on to the
    next backend instead of raising, as axes itself would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out_response(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    wait = (
        f"Try again in {minutes} minutes."
        if minutes
        else "Ask an administrator to unlock the account."
    )
    response = HttpResponse(
        f"Too many failed logins from this address for this account. {wait}",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    if cool_off:
        response.headers["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
