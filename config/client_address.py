"""The client's address: one rule for the API throttles and the admin login lockout.

Behind ``API_NUM_PROXIES`` proxies, each appends the address it received the request from to
``X-Forwarded-For``, so the client is the entry that many places from its end; everything
before it is whatever the client chose to send. Without proxies it is the connecting address.
Axes counted failed logins by the connecting address, which behind a load balancer is the
balancer's own: five wrong passwords from anyone locked the real user out.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    connecting = request.META.get("REMOTE_ADDR", "")
    proxies = settings.API_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not forwarded:
        return connecting
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if not entries:
        return connecting
    candidate = entries[-min(proxies, len(entries))]
    try:
        # Written by a proxy we trust, so it is an address; anything else is not trusted.
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return connecting
