from django_filters.rest_framework import DjangoFilterBackend

from formulary.api_fields import filter_parameters, refuse_unknown_and_repeated_parameters


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing parameters the endpoint does not know and scalars
    given twice, so every list and detail endpoint applies the rule in one place."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        known, repeatable = filter_parameters(filterset_class)
        paginator = getattr(view, "paginator", None)
        if paginator is not None:
            known |= {paginator.page_query_param, paginator.page_size_query_param}
        refuse_unknown_and_repeated_parameters(
            request.query_params, known=known, repeatable=repeatable
        )
        if filterset_class is not None and nothing_to_filter(filterset_class, request):
            # A detail or an unfiltered page: no filterset to build and validate.
            return queryset
        return super().filter_queryset(request, queryset, view)


def nothing_to_filter(filterset_class, request) -> bool:
    filters = filterset_class.base_filters
    return not any(name in filters for name in request.query_params) and not any(
        filter_.extra.get("required") for filter_ in filters.values()
    )
