"""Helpers for loading curated data files: validate every row, say exactly where it failed."""

from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import models

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


class LoadError(Exception):
    """A data file that cannot be loaded; the message names the file, the row and the field."""


def read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise LoadError(f"{path}: file not found.") from error
    except yaml.YAMLError as error:
        raise LoadError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise LoadError(f"{path}: expected a mapping of sections at the top level.")
    return data


def describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(message for e in errors for message in e.messages)}"
            for field, errors in error.error_dict.items()
        )
    return " ".join(error.messages)


def save_validated(instance: models.Model, *, where: str) -> models.Model:
    """``full_clean()`` then save; a failure names ``where`` and every field problem."""
    try:
        instance.full_clean()
    except ValidationError as error:
        raise LoadError(f"{where}: {describe(error)}") from error
    instance.save()
    return instance


def upsert(model: type[models.Model], *, lookup: dict, values: dict, where: str) -> models.Model:
    instance = model.objects.filter(**lookup).first() or model(**lookup)
    for name, value in values.items():
        field = model._meta.get_field(name)
        # Django stores absent text as "", a data file writes it as null.
        if value is None and isinstance(field, models.CharField | models.TextField):
            value = ""
        setattr(instance, name, value)
    return save_validated(instance, where=where)


def resolve(by_key: dict, keys: list, *, kind: str, where: str) -> list:
    """Look ``keys`` up in ``by_key``; unknown keys are an error that lists them."""
    missing = [key for key in keys if key not in by_key]
    if missing:
        raise LoadError(f"{where}: unknown {kind} {', '.join(map(str, missing))}.")
    return [by_key[key] for key in keys]


def pick(row: dict, fields: tuple[str, ...], *, where: str) -> dict:
    """The named fields of a data row; unknown keys are an error."""
    unknown = sorted(set(row) - set(fields))
    if unknown:
        raise LoadError(f"{where}: unknown field(s) {', '.join(unknown)}.")
    return {field: row[field] for field in fields if field in row}
