"""API token authentication: django-rest-knox, hardened against undecodable tokens."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from rest_framework.exceptions import AuthenticationFailed, Throttled

from config.throttling import FailedTokenThrottle


class TokenAuthentication(auth.TokenAuthentication):
    """Knox's token authentication; a token that is not ASCII is invalid, not a crash.

    Knox decodes the header's bytes as UTF-8 and lets the error through, so any header byte
    above 0x7F made every endpoint, the public reads too, answer 500. Wrong tokens are
    counted per client address (``failed_token`` rate): over it, a token is not even looked
    at and the answer is 429.
    """

    def authenticate(self, request):
        if "HTTP_AUTHORIZATION" not in request.META:
            return None
        throttle = FailedTokenThrottle()
        if throttle.exceeded(request):
            raise Throttled(throttle.wait())
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, token: bytes):
        if not token.isascii():
            raise AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)


class TokenScheme(KnoxTokenScheme):
    """Documents the subclass in the OpenAPI schema as knox's own scheme."""

    target_class = "config.authentication.TokenAuthentication"
