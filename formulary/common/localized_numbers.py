"""Numbers typed into and shown by the admin, in the user's notation, never silently rescaled.

A Dutch shop assistant writes ``9,95``; an English one ``9.95``. Browsers disagree on what a
``<input type="number">`` does with a comma (Chromium drops what it takes for a thousands
separator, so ``9,95`` arrived as 995), so the admin's numeric inputs are plain text inputs
read here, on the server, by one parser with one rule:

* the active language's own notation is read: ``9,95``, ``1000,5``, and groups of three with a
  decimal part, ``1.000,5`` (1000.5), in Dutch; ``9.95``, ``1,000.5`` in English;
* the other separator alone is read as the decimal mark only where nothing else can be meant:
  ``1.5`` in Dutch has no group of three, so it is 1.5;
* what has two readings is refused, not guessed: ``1.000`` in Dutch (a thousand, or one typed
  with a point) and ``1,000`` in English; so is anything else (``1,000.5`` in Dutch, ``1e3``,
  ``NaN``), with a message in the user's language and an example of the right notation.

Stored values are shown without trailing zeros and without grouping, so what the form shows
reads back as the same number (``2.000`` stored as units per serving is shown as ``2``).
"""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _

SEPARATORS = {".": ",", ",": "."}  # a decimal mark and the group separator that goes with it


def separators() -> tuple[str, str]:
    """The active language's decimal mark and its thousands separator."""
    decimal_mark = formats.get_format("DECIMAL_SEPARATOR")
    return decimal_mark, SEPARATORS.get(decimal_mark, "")


def plain_text(value: Decimal | int | float) -> str:
    """``value`` without exponent or trailing zeros, with a point: 2.000 -> 2, 1E+3 -> 1000."""
    text = format(Decimal(str(value)) if isinstance(value, float) else Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def number_text(value: Decimal | int | float | None) -> str:
    """``value`` as the active language writes it, without trailing zeros or grouping."""
    if value is None:
        return ""
    decimal_mark, _group = separators()
    return plain_text(value).replace(".", decimal_mark)


def number_parse(text: str) -> Decimal:
    """The number ``text`` means in the active language; a ValidationError where it is unsure.

    Codes: ``invalid`` (not a number in any notation), ``ambiguous`` (two readings).
    """
    decimal_mark, group = separators()
    text = text.strip()
    d, g = re.escape(decimal_mark), re.escape(group)
    own = re.fullmatch(rf"([+-]?\d+)(?:{d}(\d+))?", text)
    if own:
        return decimal_of(own[1], own[2])
    # A group of three never follows a leading 0: 0.125 is a decimal in every language.
    grouped = re.fullmatch(rf"([+-]?[1-9]\d{{0,2}}(?:{g}\d{{3}})+)(?:{d}(\d+))?", text)
    if grouped and (grouped[2] is not None or text.count(group) > 1):
        # 1.000,5 and 1.000.000: here the separator cannot be meant otherwise.
        return decimal_of(grouped[1].replace(group, ""), grouped[2])
    other_as_decimal = re.fullmatch(rf"([+-]?\d+){g}(\d+)", text)
    if other_as_decimal and not grouped:
        # 1.5 in Dutch: the point cannot separate groups of three here, so it is a decimal mark.
        return decimal_of(other_as_decimal[1], other_as_decimal[2])
    if grouped:
        raise ValidationError(
            _(
                "“%(text)s” can be read in two ways, as %(whole)s or as %(decimal)s. "
                "Write %(whole)s without the separator, or %(decimal)s with the decimal mark."
            ),
            code="ambiguous",
            params={
                "text": text,
                "whole": grouped[1].replace(group, ""),
                "decimal": text.replace(group, decimal_mark),
            },
        )
    raise ValidationError(
        _("“%(text)s” is not a number. Write it like %(example)s."),
        code="invalid",
        params={"text": text, "example": f"1000{decimal_mark}5"},
    )


def decimal_of(whole: str, fraction: str | None) -> Decimal:
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


class LocalizedNumberInput(forms.TextInput):
    """A text input (no browser reinterpretation) that shows the value in the user's notation."""

    def __init__(self, attrs=None, *, whole: bool = False):
        # inputmode brings up the numeric keyboard on phones and tablets without type=number.
        super().__init__({"inputmode": "numeric" if whole else "decimal", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return number_text(value)
        return super().format_value(value)


class LocalizedNumberMixin:
    """For Django's number form fields: ``to_python`` reads the text through number_parse."""

    whole = False

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = LocalizedNumberInput(whole=self.whole)
        kwargs.pop("localize", None)
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        # Django's number fields add min/max/step for type=number; a text input keeps none, the
        # validators still check the range and the places.
        return forms.Field.widget_attrs(self, widget)

    def parsed(self, value) -> Decimal | None:
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return Decimal(value)
        return number_parse(str(value))


class LocalizedDecimalField(LocalizedNumberMixin, forms.DecimalField):
    def to_python(self, value):
        return self.parsed(value)


class LocalizedIntegerField(LocalizedNumberMixin, forms.IntegerField):
    whole = True

    def to_python(self, value):
        number = self.parsed(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValidationError(
                _("“%(text)s” is not a whole number."),
                code="invalid",
                params={"text": str(value).strip()},
            )
        return int(number)


class LocalizedFloatField(LocalizedNumberMixin, forms.FloatField):
    def to_python(self, value):
        number = self.parsed(value)
        return None if number is None else float(number)


NUMBER_FORM_FIELDS = {
    models.DecimalField: {"form_class": LocalizedDecimalField},
    models.IntegerField: {"form_class": LocalizedIntegerField},
    # Django's admin defaults name BigIntegerField itself, which the lookup finds first.
    models.BigIntegerField: {"form_class": LocalizedIntegerField},
    models.FloatField: {"form_class": LocalizedFloatField},
}


class LocalizedNumbersAdmin:
    """For every ModelAdmin and inline of the project: its numeric fields use the fields above.

    ``formfield_overrides`` is looked up along the model field's class hierarchy, so
    PositiveIntegerField and the other integer fields are covered by IntegerField. The admin's
    defaults (a number widget for IntegerField) are merged in first; the form class here wins,
    and it brings its own widget.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        overrides = dict(self.formfield_overrides)
        for model_field, options in NUMBER_FORM_FIELDS.items():
            overrides[model_field] = {**overrides.get(model_field, {}), **options}
        self.formfield_overrides = overrides
