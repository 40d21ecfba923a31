import re
from urllib.parse import parse_qsl

from django.conf import settings
from django.utils import translation

from config.errors import DATABASE_OUTAGE_ERRORS, database_unavailable_response, error_response
from config.hygiene import (
    HEADER_CONTROL_CHARACTER,
    MAX_QUERY_PARAMETERS,
    MAX_QUERY_STRING_CHARS,
    URL_CONTROL_CHARACTER,
)
from config.request_body import TOO_LARGE_FLAG
from formulary.common.catalogue_version import version_read_once
from formulary.common.edge_cache import PRIVATE_CACHE_CONTROL
from formulary.common.history import ChangePath, recording_path
from formulary.common.localization import LANGUAGES


class QueryLanguageMiddleware:
    """``?lang=nl|en`` overrides Accept-Language (which LocaleMiddleware already applied)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.GET.get("lang")
        if language is None:
            return self.get_response(request)
        if language not in LANGUAGES:
            return error_response(
                400,
                "invalid_parameter",
                "Invalid parameter: lang.",
                [
                    {
                        "field": "lang",
                        "code": "invalid_choice",
                        "message": f"Choose one of: {', '.join(LANGUAGES)}.",
                    }
                ],
            )
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = language
        return response


REESCAPED_BYTE = re.compile("%[0-9A-Fa-f]{2}")


class RequestHygieneMiddleware:
    """Refuses, before any view or database sees them, requests whose path, query string or
    headers carry control characters or invalid UTF-8, overlong query strings, bodies over
    ``MAX_REQUEST_BODY_BYTES``, chunked bodies the server could not read whole, and API
    bodies without a Content-Type (DRF would silently read them as empty)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.problem(request) or self.get_response(request)

    def problem(self, request):
        # Django has already decoded the path, re-escaping bytes that are not UTF-8 as %XX;
        # no path of ours holds a percent sign, so one left over marks such a byte.
        if REESCAPED_BYTE.search(request.path_info):
            return error_response(400, "invalid_encoding", "The path is not valid UTF-8.")
        if URL_CONTROL_CHARACTER.search(request.path_info):
            return error_response(
                400, "control_character", "The path contains a control character."
            )
        query = request.META.get("QUERY_STRING", "")
        if len(query) > MAX_QUERY_STRING_CHARS:
            # 400, not 414: schema fuzzers and clients read a 400 as "fix your request".
            return error_response(
                400,
                "query_too_long",
                f"The query string may hold at most {MAX_QUERY_STRING_CHARS} characters.",
            )
        try:
            # WSGI hands over the raw bytes as latin-1; both they and what the percent
            # escapes encode must be UTF-8.
            query.encode("latin-1", "replace").decode("utf-8")
            pairs = parse_qsl(
                query, keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_PARAMETERS
            )
        except UnicodeDecodeError:
            return error_response(400, "invalid_encoding", "The query string is not valid UTF-8.")
        except ValueError:
            return error_response(
                400,
                "too_many_parameters",
                f"A request may carry at most {MAX_QUERY_PARAMETERS} query parameters.",
            )
        for name, value in pairs:
            if URL_CONTROL_CHARACTER.search(name + value):
                return error_response(
                    400,
                    "invalid_parameter",
                    f"Invalid parameter: {name}.",
                    [
                        {
                            "field": name,
                            "code": "control_character",
                            "message": "Contains a control character.",
                        }
                    ],
                )
        for key, value in request.META.items():
            if key.startswith("HTTP_") and HEADER_CONTROL_CHARACTER.search(str(value)):
                header = key[5:].replace("_", "-").title()
                return error_response(
                    400, "control_character", f"The {header} header contains a control character."
                )
        length = request.META.get("CONTENT_LENGTH") or ""
        if request.META.get(TOO_LARGE_FLAG) or (
            length.isdigit() and int(length) > settings.MAX_REQUEST_BODY_BYTES
        ):
            return error_response(413, "request_too_large", "The request body is too large.")
        # config/request_body.py turned every chunked body it could read into one with a
        # length; what is left cannot be read whole and must not be taken for empty.
        if "HTTP_TRANSFER_ENCODING" in request.META and not length:
            return error_response(
                411,
                "length_required",
                "This server reads a request body only with a Content-Length header.",
            )
        if (
            request.path_info.startswith("/api/")
            and has_body(request)
            and not request.META.get("CONTENT_TYPE")
        ):
            return error_response(
                415, "unsupported_media_type", "A request body needs a Content-Type."
            )
        return None


def has_body(request):
    length = request.META.get("CONTENT_LENGTH") or "0"
    return length != "0" or "HTTP_TRANSFER_ENCODING" in request.META


class DatabaseOutageMiddleware:
    """A view outside DRF (the admin) that loses the database answers 503, not a 500 page.
    DRF views get the same answer from the API exception handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_OUTAGE_ERRORS):
            return database_unavailable_response()
        return None


class HistoryPathMiddleware:
    """Records the changes a request makes as made through the admin or the API.

    The path is a context variable: no query, and nothing at all for a read.
    """

    PATHS_BY_PREFIX = (("/admin/", ChangePath.ADMIN), ("/api/", ChangePath.API))

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for prefix, path in self.PATHS_BY_PREFIX:
            if request.path_info.startswith(prefix):
                with recording_path(path):
                    return self.get_response(request)
        return self.get_response(request)


class CatalogueVersionMiddleware:
    """One read of the catalogue version per request (formulary.common.catalogue_version)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with version_read_once():
            return self.get_response(request)


class CacheControlMiddleware:
    """Every API answer that did not say otherwise is ``private, no-store``: authenticated
    reads, writes and errors must never be kept by a shared cache. Anonymous cached reads say
    ``public`` themselves (formulary.common.edge_cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/api/"):
            response.headers.setdefault("Cache-Control", PRIVATE_CACHE_CONTROL)
        return response
