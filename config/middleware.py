from django.utils import translation

from config.errors import error_response
from formulary.history import ChangePath, recording_path
from formulary.localization import LANGUAGES


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
                [{"field": "lang", "code": "invalid_choice",
                  "message": f"Choose one of: {', '.join(LANGUAGES)}."}],
            )
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = language
        return response


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
