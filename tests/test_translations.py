"""Every string of ours has a Dutch translation, and the labels of the models are translatable.

The first test runs makemessages over a copy of the source tree against a copy of our catalogue:
a string added to the code without a Dutch msgstr comes out empty (or fuzzy, when gettext
guessed it from a similar one) and is named in the failure.
"""

import shutil
from ast import literal_eval
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real

ROOT = Path(settings.BASE_DIR)
OUR_APPS = ("formulary", "compounds", "products")
SOURCE_DIRS = ("config", *OUR_APPS)
# Choice labels that are symbols or abbreviations, the same in every language.
SYMBOLS = {"EU", "US", "mg", "µg"}


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (list) and flags; obsolete skipped.

    A .po string is a C string literal, which Python reads the same way.
    """
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~") or not line:
            continue
        if line.startswith("#,"):
            finish()
            entry, key = {"flags": {f.strip() for f in line[2:].split(",")}, "msgstr": []}, None
            continue
        if line.startswith("#"):
            continue
        if line.startswith("msgid "):
            if entry is None or "msgid" in entry:
                finish()
                entry = {"flags": set(), "msgstr": []}
            key, entry["msgid"] = "msgid", literal_eval(line[6:])
        elif line.startswith("msgid_plural "):
            key, entry["msgid_plural"] = "msgid_plural", literal_eval(line[13:])
        elif line.startswith("msgstr"):
            key = "msgstr"
            entry["msgstr"].append(literal_eval(line.split(" ", 1)[1]))
        elif line.startswith('"'):
            if key == "msgstr":
                entry["msgstr"][-1] += literal_eval(line)
            else:
                entry[key] += literal_eval(line)
    finish()
    return entries


def untranslated(entries: list[dict]) -> list[str]:
    return [
        entry["msgid"]
        for entry in entries
        if entry["msgid"] and ("fuzzy" in entry["flags"] or not all(entry["msgstr"]))
    ]


def test_po_entries_reads_plurals_continuations_and_flags(tmp_path):
    catalogue = tmp_path / "django.po"
    catalogue.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain\\n"\n\n'
        '#: a.py:1\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] "een"\nmsgstr[1] ""\n\n'
        '#, fuzzy\nmsgid "long "\n"text"\nmsgstr "lange tekst"\n\n'
        'msgid "done"\nmsgstr ""\n"klaar"\n',
        encoding="utf-8",
    )

    entries = po_entries(catalogue)

    assert [e["msgid"] for e in entries] == ["", "one", "long text", "done"]
    assert entries[1]["msgid_plural"] == "many"
    assert untranslated(entries) == ["one", "long text"]


@pytest.mark.skipif(not shutil.which("xgettext"), reason="makemessages needs GNU gettext")
def test_catalogue_every_string_of_ours_has_a_dutch_translation(tmp_path, settings, monkeypatch):
    for name in SOURCE_DIRS:
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations")
        )
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["nl"], verbosity=0)

    assert untranslated(po_entries(tmp_path / "locale/nl/LC_MESSAGES/django.po")) == []


def our_models():
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if not model.__name__.startswith("Historical"):
                yield model


def model_texts():
    """(where, text) for every app, model, field, help text and choice label of ours."""
    for label in OUR_APPS:
        yield label, apps.get_app_config(label).verbose_name
    for model in our_models():
        yield model.__name__, model._meta.verbose_name
        yield model.__name__, model._meta.verbose_name_plural
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue
            if field.auto_created:  # the id
                continue
            where = f"{model.__name__}.{field.name}"
            yield where, field.verbose_name
            if field.help_text:
                yield f"{where} (help)", field.help_text
            for _value, choice_label in field.choices or []:
                if choice_label not in SYMBOLS:
                    yield f"{where} (choice)", choice_label


def test_models_every_label_help_text_and_choice_is_translatable():
    texts = list(model_texts())

    not_lazy = [(where, str(text)) for where, text in texts if not isinstance(text, Promise)]

    assert len(texts) > 300
    assert not_lazy == []


def test_models_every_label_help_text_and_choice_has_a_dutch_translation():
    catalogue = trans_real.translation("nl")._catalog
    with translation.override("en"):
        texts = {(where, str(text)) for where, text in model_texts()}

    missing = sorted((where, text) for where, text in texts if text not in catalogue)

    assert missing == []
