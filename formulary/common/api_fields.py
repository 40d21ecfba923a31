"""Filter fields shared by every list endpoint: slug lists and bounded numbers."""

from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.http import QueryDict
from django_filters import Filter
from django_filters.constants import EMPTY_VALUES
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ErrorDetail, ValidationError

MAX_SLUGS = 20


class SlugListField(forms.Field):
    """Repeated (``a=x&a=y``) or comma-separated (``a=x,y``) slugs, each one known."""

    widget = QueryArrayWidget

    def __init__(self, *, known, kind, **kwargs):
        self.known = known
        self.kind = kind
        super().__init__(**kwargs)

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list) else [value]
        slugs = [s.strip() for item in values for s in str(item).split(",") if s.strip()]
        if len(slugs) > MAX_SLUGS:
            raise forms.ValidationError(f"At most {MAX_SLUGS} values.", code="too_many")
        return list(dict.fromkeys(slugs))

    def validate(self, value):
        super().validate(value)
        if not value:
            return
        known = set(self.known(value))
        unknown = [slug for slug in value if slug not in known]
        if unknown:
            # User text goes in params: Django %-formats the message itself.
            raise forms.ValidationError(
                "Unknown %(kind)s: %(values)s.",
                code="unknown_slug",
                params={"kind": self.kind, "values": ", ".join(unknown)},
            )


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": 60}})
class SlugListFilter(Filter):
    """Filters on any of the given slugs; ``known(slugs)`` returns which of them exist."""

    field_class = SlugListField

    def __init__(self, *args, known, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra.update(known=known, kind=kind)

    def filter(self, qs, value):
        if not value:
            return qs
        return (
            self.method(qs, self.field_name, value)
            if self.method
            else qs.filter(**{f"{self.field_name}__in": value})
        )


class BoundedDecimalField(forms.Field):
    """A finite decimal within bounds; NaN, Infinity and 1e400 are refused, not crashed on."""

    def __init__(self, *, minimum: Decimal, maximum: Decimal, **kwargs):
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        if len(text) > 30:
            raise forms.ValidationError("Enter a shorter number.", code="invalid")
        # Decimal() also reads Arabic-Indic, Devanagari and fullwidth digits; a number
        # in a URL is written with ASCII digits, as every other numeric parameter demands.
        if not text.isascii():
            raise forms.ValidationError("Enter a number in the digits 0-9.", code="invalid")
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise forms.ValidationError("Enter a number.", code="invalid") from error
        if not number.is_finite():
            raise forms.ValidationError("Enter a finite number.", code="invalid")
        if not self.minimum <= number <= self.maximum:
            raise forms.ValidationError(
                f"Enter a number from {self.minimum} to {self.maximum}.", code="out_of_range"
            )
        return number


@extend_schema_field({"type": "number"})
class BoundedDecimalFilter(Filter):
    field_class = BoundedDecimalField

    def __init__(self, *args, minimum, maximum, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra.update(minimum=Decimal(minimum), maximum=Decimal(maximum))
        # The schema states this parameter's bounds.
        set_override(
            self, "field", {"type": "number", "minimum": float(minimum), "maximum": float(maximum)}
        )


class StrictBooleanField(forms.Field):
    """Only ``true`` or ``false``: anything else is an error, never silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Use true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(Filter):
    field_class = StrictBooleanField


# Parameters every endpoint understands: the language, and DRF's format override.
GLOBAL_PARAMETERS = frozenset({"lang", "format"})


def refuse_unknown_and_repeated_parameters(query_params, *, known, repeatable=()):
    """A misspelt filter (``indications=sleep``) would otherwise be ignored and answer with the
    whole catalogue, and a repeated scalar (``page=1&page=2``) silently keep the last value;
    both are a 400 that names the parameter."""
    problems = {}
    for name in query_params:
        if name not in known and name not in GLOBAL_PARAMETERS:
            problems[name] = [ErrorDetail("Unknown parameter.", code="unknown_parameter")]
        elif name not in repeatable and len(query_params.getlist(name)) > 1:
            problems[name] = [ErrorDetail("Give this parameter once.", code="repeated_parameter")]
        elif name in repeatable and values_given(query_params.getlist(name)) > MAX_SLUGS:
            # Counted as sent: django-filter's widget drops repeated values before the field
            # sees them, so ``a=x&a=x&...`` passed the field's own limit however often.
            problems[name] = [ErrorDetail(f"At most {MAX_SLUGS} values.", code="too_many")]
    if problems:
        raise ValidationError(problems)


def values_given(values: list[str]) -> int:
    """How many values a list parameter carries, repeated or comma-separated."""
    return sum(len([part for part in value.split(",") if part.strip()]) for value in values)


def refuse_parameters_unknown_to(view, query_params):
    """The rule above for a list or detail view: its filters and its paginator's parameters."""
    known, repeatable = filter_parameters(getattr(view, "filterset_class", None))
    if isinstance(view, FieldSelectionMixin):
        known.add(FIELDS_PARAMETER)
        repeatable.add(FIELDS_PARAMETER)
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        known |= {paginator.page_query_param, paginator.page_size_query_param}
    refuse_unknown_and_repeated_parameters(query_params, known=known, repeatable=repeatable)


def nothing_to_filter(filterset_class, request) -> bool:
    filters = filterset_class.base_filters
    return not any(name in filters for name in request.query_params) and not any(
        filter_.extra.get("required") for filter_ in filters.values()
    )


def filter_parameters(filterset_class):
    """(known, repeatable) parameter names of a FilterSet: slug lists and orderings may repeat."""
    filters = filterset_class.base_filters if filterset_class else {}
    repeatable = (SlugListFilter, django_filters.OrderingFilter)
    return set(filters), {name for name, f in filters.items() if isinstance(f, repeatable)}


def joined_orderings(data, filters):
    """``ordering=name&ordering=-price`` (as generated clients send a list) as the comma form
    ``ordering=name,-price`` that django-filter reads: its widget would keep the last only."""
    if not hasattr(data, "getlist"):
        return data
    repeated = [
        name
        for name, filter_ in filters.items()
        if isinstance(filter_, django_filters.OrderingFilter) and len(data.getlist(name)) > 1
    ]
    if not repeated:
        return data
    data = data.copy()
    for name in repeated:
        data[name] = ",".join(data.getlist(name))
    return data


class SharedFields(dict):
    """A form's fields that every form of the class shares: a Django form deep-copies its
    fields on every instance (for forms that change them per request; ours never do)."""

    def __deepcopy__(self, memo):
        return SharedFields(self)


class GivenFieldsForm(forms.Form):
    """A filter form that cleans only the parameters a request gives.

    An endpoint declares a score of filters and a request names a few; the others clean to
    the same empty value on every request (None, "" or []), so each is cleaned once per form
    class and its value reused. A field counts as given when a parameter starts with its name
    (``indication[]``, a range's ``_min``); a field whose omission is an error (``required``)
    or that a form method cleans is cleaned every time.
    """

    def _clean_fields(self):
        omitted_values = type(self).__dict__.get("omitted_values")
        if omitted_values is None:
            omitted_values = type(self).omitted_values = {}
        given = list(self.data)
        for name, field in self.fields.items():
            html_name = self.add_prefix(name)
            omitted = not any(key.startswith(html_name) for key in given)
            if omitted and name in omitted_values:
                self.cleaned_data[name] = own_copy(omitted_values[name])
                continue
            method = getattr(self, f"clean_{name}", None)
            try:
                self.cleaned_data[name] = field._clean_bound_field(self[name])
                if method is not None:
                    self.cleaned_data[name] = method()
            except forms.ValidationError as error:
                self.add_error(name, error)
                continue
            if omitted and method is None and not field.disabled:
                omitted_values[name] = own_copy(self.cleaned_data[name])


def own_copy(value):
    """A list, which a view may extend, as a request's own: the kept empty value is never one
    a request holds."""
    return list(value) if isinstance(value, list) else value


class LeanFilterSet(django_filters.FilterSet):
    """django-filter's FilterSet without its per-request copies.

    A FilterSet deep-copies all its filters and builds a new form class on every request,
    which cost more time than the catalogue's whole page query. Our filters are never changed
    after their class is made, so every request shares the class's filters and one form class
    per FilterSet class; a filter with ``method`` calls it on this FilterSet directly instead
    of through a per-request copy that points back to it.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = joined_orderings(data, self.base_filters) if data else QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = self.base_filters

    @classmethod
    def shared_form_class(cls):
        # Kept on the class itself: a subclass has filters of its own.
        if "_shared_form_class" not in cls.__dict__:
            fields = {name: filter_.field for name, filter_ in cls.base_filters.items()}
            form_class = type(f"{cls.__name__}Form", (GivenFieldsForm, cls._meta.form), fields)
            form_class.base_fields = SharedFields(form_class.base_fields)
            cls._shared_form_class = form_class
        return cls._shared_form_class

    def get_form_class(self):
        return self.shared_form_class()

    def filter_queryset(self, queryset):
        return self.filter_queryset_except(queryset, ())

    def filter_queryset_except(self, queryset, names):
        """``queryset`` under every filter but ``names``: what a facet counts over."""
        for name, value in self.given().items():
            if name not in names:
                queryset = self.apply_filter(queryset, name, value)
        return queryset

    def given(self) -> dict:
        """The cleaned values of the filters given: every django-filter filter returns the
        queryset unchanged for the others."""
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if value not in EMPTY_VALUES
        }

    def apply_filter(self, queryset, name, value):
        filter_ = self.filters[name]
        if isinstance(filter_.method, str):
            return getattr(self, filter_.method)(queryset, filter_.field_name, value)
        return filter_.filter(queryset, value)


FIELDS_PARAMETER = "fields"


def selected_fields(query_params, available) -> tuple[str, ...] | None:
    """The fields a client asked for (``fields=gtin,name`` or repeated), each one known;
    None when it asked for none (then every field is answered)."""
    asked = query_params.getlist(FIELDS_PARAMETER)
    if not asked:
        return None
    names = [name.strip() for item in asked for name in item.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        message = f"Unknown field: {', '.join(unknown)}." if unknown else "Name at least one field."
        raise ValidationError(
            {FIELDS_PARAMETER: [ErrorDetail(message, code="unknown_field" if unknown else "empty")]}
        )
    return tuple(dict.fromkeys(names))


class FieldSelectionMixin:
    """``fields=`` on a read: only the named top-level fields of each object.

    A page keeps its own keys (``next``, ``count``, ``facets``) and narrows each of its
    ``results``. Checked in ``initial`` so an unknown field is a 400 before anything is read;
    applied before the read cache stores the answer, whose key is the whole URL.
    """

    def selectable_fields(self) -> tuple[str, ...]:
        return tuple(self.get_serializer_class()().fields)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.fields_selected = None
        # Building the serializer to learn its fields costs a millisecond: only when asked.
        if FIELDS_PARAMETER in request.query_params:
            self.fields_selected = selected_fields(request.query_params, self.selectable_fields())

    def finalize_response(self, request, response, *args, **kwargs):
        fields = getattr(self, "fields_selected", None)
        data = getattr(response, "data", None)
        reads = request.method in ("GET", "HEAD")  # not the OPTIONS metadata
        if fields and reads and response.status_code == 200 and isinstance(data, dict):
            if isinstance(data.get("results"), list):
                data["results"] = [only(item, fields) for item in data["results"]]
            else:
                response.data = only(data, fields)
        return super().finalize_response(request, response, *args, **kwargs)


def only(item: dict, fields) -> dict:
    return {name: value for name, value in item.items() if name in fields}
