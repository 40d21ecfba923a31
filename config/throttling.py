"""Request-rate limits for the API, per client address (anonymous) and per account (token).

The counters live in the default cache, so with Redis (``REDIS_URL``) every worker shares them;
with the local-memory cache each process counts for itself. DRF binds the rates to its throttle
classes when they are imported; these read them per request, so the settings (and tests that
override them) decide.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class SettingsRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonymousClientThrottle(SettingsRateMixin, throttling.AnonRateThrottle):
    pass


class AccountThrottle(SettingsRateMixin, throttling.UserRateThrottle):
    pass
