from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend

from formulary.common.api_fields import nothing_to_filter, refuse_parameters_unknown_to


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing parameters the endpoint does not know and scalars
    given twice, so every list and detail endpoint applies the rule in one place."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.validated_filterset(request, queryset, view)
        return queryset if filterset is None else filterset.qs

    def validated_filterset(self, request, queryset, view):
        """The view's filterset, validated (a 400 otherwise); None when nothing is filtered."""
        refuse_parameters_unknown_to(view, request.query_params)
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and nothing_to_filter(filterset_class, request):
            # A detail or an unfiltered page: no filterset to build and validate.
            return None
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None and not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return filterset
