from django_filters.rest_framework import DjangoFilterBackend

from formulary.api_fields import filter_parameters, refuse_unknown_and_repeated_parameters


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing parameters the endpoint does not know and scalars
    given twice, so every list and detail endpoint applies the rule in one place."""

    def filter_queryset(self, request, queryset, view):
        known, repeatable = filter_parameters(getattr(view, "filterset_class", None))
        paginator = getattr(view, "paginator", None)
        if paginator is not None:
            known |= {paginator.page_query_param, paginator.page_size_query_param}
        refuse_unknown_and_repeated_parameters(
            request.query_params, known=known, repeatable=repeatable
        )
        return super().filter_queryset(request, queryset, view)
