"""Texts are stored per language as ``<field>_nl`` and ``<field>_en``."""

from django.utils.translation import get_language

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def current_language() -> str:
    language = (get_language() or DEFAULT_LANGUAGE)[:2]
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def localized(instance, field: str) -> str:
    """The text of ``field`` in the active language (``name`` -> ``name_nl`` or ``name_en``)."""
    return getattr(instance, f"{field}_{current_language()}")


def translated(texts: dict[str, str], **values) -> str:
    """``texts`` ({"nl": ..., "en": ...}) in the active language, with ``values`` filled in."""
    return texts[current_language()].format(**values)
