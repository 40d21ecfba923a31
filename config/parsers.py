"""The one JSON parser of the API: bounded, strict, and UTF-8 only.

DRF's own JSONParser reads any size, crashes with RecursionError (a 500) on deeply nested
arrays, turns ``1e400`` into ``inf`` and lets ``"\\u0000"`` through to the database. Each of
those is refused here, before a serializer sees the data, with a 4xx in the error envelope.
"""

import json
import re
from decimal import Decimal

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from config.hygiene import (
    MAX_JSON_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_JSON_NUMBER_CHARS,
)
from formulary.common.text import TEXT_CONTROL_CHARACTER


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw``, brackets inside strings not counted."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name):
    raise ParseError(f"{name} is not a JSON number.", code="invalid_number")


def _number(parse):
    def parse_bounded(text):
        if len(text) > MAX_JSON_NUMBER_CHARS:
            raise ParseError(
                f"A number may have at most {MAX_JSON_NUMBER_CHARS} characters.",
                code="number_too_long",
            )
        return parse(text)

    return parse_bounded


def _object_without_repeated_keys(pairs):
    """json.loads keeps the last of two equal keys; a body that says two things about one
    field is refused instead of silently trusting one of them."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise ParseError(
                f"The key {key[:50]!r} appears twice in one object.", code="duplicate_key"
            )
        data[key] = value
    return data


def _strings(value, path="body"):
    """Every (path, text) of keys and string values, walked without recursion."""
    pending = [(path, value)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield f"{path}.{key}", key
                pending.append((f"{path}.{key}", item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = self._read_bounded(stream, parser_context)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError(
                f"The body is not valid UTF-8 (byte {error.start + 1}).", code="invalid_encoding"
            ) from error
        if nesting_depth(raw) > MAX_JSON_DEPTH:
            raise ParseError(
                f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.", code="too_deeply_nested"
            )
        try:
            data = json.loads(
                text,
                parse_constant=_refuse_constant,
                object_pairs_hook=_object_without_repeated_keys,
                # Decimal keeps quantities exact, and 1e400 finite for the field to refuse.
                parse_float=_number(Decimal),
                parse_int=_number(int),
            )
        except ValueError as error:
            raise ParseError(f"The body is not valid JSON: {error}", code="invalid_json") from error
        for path, string in _strings(data):
            if TEXT_CONTROL_CHARACTER.search(string):
                raise ParseError(f"{path} contains a control character.", code="control_character")
        return data

    def _read_bounded(self, stream, parser_context):
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > MAX_JSON_BODY_BYTES:
            raise RequestTooLarge(f"The body may hold at most {MAX_JSON_BODY_BYTES} bytes.")
        raw = stream.read(MAX_JSON_BODY_BYTES + 1)
        if len(raw) > MAX_JSON_BODY_BYTES:
            raise RequestTooLarge(f"The body may hold at most {MAX_JSON_BODY_BYTES} bytes.")
        return raw
