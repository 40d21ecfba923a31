"""Admin login lockout (django-axes): the backend and the answer a locked-out client gets."""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext, ngettext


class LoginLockoutBackend(AxesStandaloneBackend):
    """Counts and blocks logins that come with a request. ``authenticate()`` without one (the
    test client's ``login()``, a shell) has no client address to lock, so it passes on to the
    next backend instead of raising, as axes itself would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out_response(request, original_response=None, credentials=None):
    """The admin's own page with a 429, in the reader's language, saying how long to wait."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    if minutes:
        next_step = ngettext(
            "Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", minutes
        ) % {"minutes": minutes}
    else:
        next_step = gettext("Ask an administrator to unlock the account.")
    # Rendered here: axes returns it from its middleware, where nothing renders it later.
    response = render(
        request,
        "admin/locked_out.html",
        {
            **admin.site.each_context(request),
            "message": gettext("Too many failed logins from this address for this account."),
            "next_step": next_step,
        },
        status=429,
    )
    if cool_off:
        response.headers["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
