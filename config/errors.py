"""One error envelope for every non-2xx API response, with stable machine-readable codes.

{"error": {"status": 400, "code": "invalid_parameter", "message": "...",
           "details": [{"field": "min_elemental_mg", "code": "invalid", "message": "..."}]}}
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext, ngettext
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

CODE_FOR_EXCEPTION = {
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "malformed_request",
}


def error_body(status_code: int, code: str, message: str, details=None) -> dict:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "details": details or [],
        }
    }


def error_response(status_code: int, code: str, message: str, details=None) -> JsonResponse:
    return JsonResponse(error_body(status_code, code, message, details), status=status_code)


def field_path(parent, key):
    """``ingredients`` + ``1`` + ``amount_mg`` -> ``ingredients[1].amount_mg``.

    DRF keys the errors of a list's items by their index; errors of a whole object
    (``non_field_errors``) belong to the object itself.
    """
    if key == api_settings.NON_FIELD_ERRORS_KEY:
        return parent
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def flatten(detail, field=None):
    """DRF's nested error detail as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        return [
            item for key, value in detail.items() for item in flatten(value, field_path(field, key))
        ]
    if isinstance(detail, list):
        return [item for value in detail for item in flatten(value, field)]
    return [{"field": field, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def api_exception_handler(exc, context):
    """DRF's handler first (it knows the status and headers), then our envelope."""
    if isinstance(exc, DATABASE_OUTAGE_ERRORS):
        set_rollback()
        return database_unavailable_response()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = flatten(exc.detail)
        fields = sorted({d["field"] for d in details if d["field"]})
        # Reads are refused for their query parameters, writes for the fields of their body.
        if context["request"].method in SAFE_METHODS:
            code, label = "invalid_parameter", "Invalid parameter"
        else:
            code, label = "invalid_field", "Invalid field"
        message = f"{label}: {', '.join(fields)}." if fields else "The request is invalid."
        response.data = error_body(response.status_code, code, message, details)
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body(response.status_code, "throttled", throttled_message(exc.wait))
    elif response.status_code == status.HTTP_404_NOT_FOUND:
        path = context["request"].path
        response.data = error_body(404, "not_found", f"There is nothing at {path}.")
    else:
        code = next(
            (c for klass, c in CODE_FOR_EXCEPTION.items() if isinstance(exc, klass)),
            getattr(exc, "default_code", "error"),
        )
        response.data = error_body(
            response.status_code, code, str(response.data["detail"]), specific_problem(exc)
        )
    return response


def throttled_message(wait: int | None) -> str:
    """Our words for a 429, with the same seconds as ``Retry-After``: DRF's Dutch catalogue has
    "Aanvraag was verstikt" ("the request was choked") and leaves the wait in English."""
    if wait is None:
        return gettext("Too many requests; try again later.")
    return ngettext(
        "Too many requests; try again in %(wait)d second.",
        "Too many requests; try again in %(wait)d seconds.",
        wait,
    ) % {"wait": wait}


def specific_problem(exc):
    """An exception raised with a code of its own (``ParseError(code="too_deeply_nested")``)
    names that problem in the details; the envelope's code stays the class's stable one."""
    detail_code = getattr(getattr(exc, "detail", None), "code", None)
    if detail_code in (None, getattr(exc, "default_code", None)):
        return []
    return [{"field": None, "code": detail_code, "message": str(exc.detail)}]


def not_found(request, exception=None):
    return error_response(
        status.HTTP_404_NOT_FOUND, "not_found", f"There is nothing at {request.path}."
    )


def server_error(request):
    # Django calls this inside its except block: a database outage raised anywhere outside a
    # DRF view (middleware, the admin) is still a 503 the client may retry, not a 500.
    if isinstance(sys.exc_info()[1], DATABASE_OUTAGE_ERRORS):
        return database_unavailable_response()
    return error_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", "An unexpected error occurred."
    )


def bad_request(request, exception=None):
    return error_response(status.HTTP_400_BAD_REQUEST, "bad_request", "The request is malformed.")


# A database that does not answer is an outage to wait out, not a bug: clients may retry.
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> JsonResponse:
    response = error_response(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "database_unavailable",
        "The database is unavailable; retry shortly.",
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
