"""GET /api/v1/feed/ (the published catalogue as JSON Lines) and GET /api/v1/changes/.

The sync recipe: read the feed once, keep its cursor, then ask ``changes/?after=<cursor>``
and apply each change (an upsert replaces the product by GTIN, a delete removes it) until
``has_more`` is false; keep the page's ``cursor`` for next time. products/feed.py says why
no change is ever skipped.
"""

import json

from django import forms
from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from formulary.common.api_fields import refuse_unknown_and_repeated_parameters
from products.api.serializers import ProductSerializer
from products.feed import MAX_CHANGES_PAGE, InvalidCursor, changes_after, cursor_parse, feed_lines

CURSOR_HEADER = "X-Changes-Cursor"
JSON_LINES = "application/x-ndjson"


class JSONLinesRenderer(JSONRenderer):
    """Lets a client ask for JSON Lines; errors still render as the JSON envelope."""

    media_type = JSON_LINES
    format = "jsonl"


def json_line(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def feed_body(cursor, lines):
    """The first line names the cursor; every other line is one product."""
    yield json_line({"cursor": str(cursor)})
    for rows in lines:
        yield b"".join(json_line(row) for row in rows)


class ProductFeedView(APIView):
    """Every published product, one JSON object a line, ordered by GTIN."""

    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(
        summary="The whole published catalogue as JSON Lines",
        description=(
            "Streamed, gzip-compressed when the request accepts it. The first line is "
            '`{"cursor": "..."}`, the change-feed cursor at which the feed was read (also in '
            "the X-Changes-Cursor header); every other line is one product as products/ "
            "shows it. Follow with changes/?after=<cursor>."
        ),
        responses={
            (200, JSON_LINES): OpenApiResponse(
                OpenApiTypes.STR, description="One JSON object per line."
            )
        },
    )
    def get(self, request):
        refuse_unknown_and_repeated_parameters(request.query_params, known=set())
        lines = feed_lines()
        cursor = next(lines)
        # The snapshot is open from here until the body is streamed (or the client leaves).
        response = StreamingHttpResponse(feed_body(cursor, lines), content_type=JSON_LINES)
        response[CURSOR_HEADER] = str(cursor)
        response["Cache-Control"] = "no-store"
        return response


class ChangesForm(forms.Form):
    after = forms.CharField(max_length=40)
    page_size = forms.IntegerField(min_value=1, max_value=MAX_CHANGES_PAGE, required=False)


class ChangeSerializer(serializers.Serializer):
    gtin = serializers.CharField()
    change = serializers.ChoiceField(choices=["upsert", "delete"])
    product = ProductSerializer(allow_null=True, help_text="The product now; null for delete.")


class ChangesPageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    cursor = serializers.CharField(help_text="Give it as after= to read on.")
    has_more = serializers.BooleanField(help_text="True: read on at once with the cursor.")


class ChangesView(APIView):
    """Changes to the published catalogue after a cursor, oldest first."""

    @extend_schema(
        summary="Changes after a cursor: upserts and tombstones",
        description=(
            "One entry per GTIN changed after the cursor: `upsert` with the product as it is "
            "now, or `delete` when it is no longer published (unpublished, discontinued or "
            "deleted). Changes of the knowledge base that alter products appear as upserts "
            "of those products. Applying them to the feed reproduces the catalogue."
        ),
        parameters=[
            OpenApiParameter(
                "after", str, required=True, description="A cursor from feed/ or changes/."
            ),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Log entries to read, 1 to {MAX_CHANGES_PAGE} (default 100).",
            ),
        ],
        responses=ChangesPageSerializer,
    )
    def get(self, request):
        refuse_unknown_and_repeated_parameters(
            request.query_params, known=set(ChangesForm.base_fields)
        )
        form = ChangesForm(request.query_params)
        if not form.is_valid():
            raise translate_validation(form.errors)
        try:
            after = cursor_parse(form.cleaned_data["after"])
        except InvalidCursor as error:
            raise ValidationError(
                {"after": [_("Give a cursor from the feed or an earlier page of changes.")]},
                code="invalid_cursor",
            ) from error
        page = changes_after(after, limit=form.cleaned_data["page_size"] or 100)
        return Response(
            {"results": page.changes, "cursor": str(page.cursor), "has_more": page.has_more},
            headers={"Cache-Control": "no-store"},
        )
