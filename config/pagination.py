from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 100


class BoundedPageNumberPagination(PageNumberPagination):
    """Pages of at most 100; a page size or page number out of range is a 400, not a guess."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise ValidationError(
                {"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]}
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and (
            not raw.isascii() or not raw.isdigit() or int(raw) < 1 or len(raw) > 9
        ):
            raise ValidationError({"page": ["Give a whole page number from 1."]})
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["minimum"] = 0
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": MAX_PAGE_SIZE})
            if parameter["name"] == self.page_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": 999_999_999})
        return parameters


MAX_OFFSET = 10_000


class CountlessPageNumberPagination(BoundedPageNumberPagination):
    """Numbered pages without a ``count``: one query per page at any catalogue size.

    Reads ``page_size + 1`` rows; the extra row only says whether there is a next page.
    Pages start at most ``MAX_OFFSET`` rows in, because an offset is paid for in rows
    skipped: beyond that a client narrows its filter instead of paging on.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size_now = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
            raise ValidationError({"page": ["Give a whole page number from 1."]})
        self.page_number = int(raw)
        offset = (self.page_number - 1) * self.page_size_now
        if offset > MAX_OFFSET:
            raise ValidationError(
                {
                    "page": [
                        ErrorDetail(
                            f"Pages start at most {MAX_OFFSET} results in; narrow the filter "
                            "instead.",
                            code="out_of_range",
                        )
                    ]
                }
            )
        rows = list(queryset[offset : offset + self.page_size_now + 1])
        self.has_next = len(rows) > self.page_size_now
        return rows[: self.page_size_now]

    def page_link(self, number):
        url = self.request.build_absolute_uri()
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.page_link(self.page_number + 1) if self.has_next else None,
                "previous": self.page_link(self.page_number - 1) if self.page_number > 1 else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["maximum"] = MAX_OFFSET + 1
        return parameters
