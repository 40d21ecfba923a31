from django.db import router
from django.db.models import F
from django.http import Http404
from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.response import Response

from formulary.common.api_fields import (
    FieldSelectionMixin,
    nothing_to_filter,
    refuse_parameters_unknown_to,
)
from formulary.common.catalogue_version import COLLECTION_ANSWER, detail_answer
from formulary.common.read_cache import CachedReadMixin
from formulary.common.statements import AnyOf, CompiledValues
from products.api.filters import ProductFilter
from products.api.list_statement import PageQueries, catalogue_page_rows
from products.api.permissions import ProductRolePermission, may_see_unpublished
from products.api.serializers import ProductSerializer
from products.api.write import RETRIEVE_SCHEMA, ProductWriteMixin, version_etag
from products.catalogue_rows import product_rows, product_values
from products.facets import FACETS, facet_counts, own_filters
from products.models import Product
from products.selectors import published_products

# A detail's one row by GTIN, with its version (the ETag): published products only, or every
# product for staff who may see drafts.
DETAIL_VALUES = {
    published_only: CompiledValues(
        lambda gtin, base=base: product_values(base().filter(gtin=gtin).order_by(), "version"),
        markers=1,
    )
    for published_only, base in ((True, published_products), (False, Product.objects.all))
}


# A page of the list: its rows in one statement, or its ids and then their rows by id
# (PostgreSQL: products.api.list_statement). Published products only, in both steps.
CATALOGUE_PAGE = PageQueries(
    rows=lambda filtered: product_values(ties_broken_by_gtin(filtered)),
    ids=lambda filtered: ties_broken_by_gtin(filtered).values("id"),
    rows_by_id=CompiledValues(
        lambda ids: product_values(published_products().filter(AnyOf(F("id"), ids)).order_by()),
        markers=1,
    ),
)


def product_values_by_gtin(gtin: str, *, published_only: bool) -> list[dict]:
    """``product_values`` of the product with ``gtin`` and its version: one query, compiled
    once per process (the ORM's building and compiling cost five times the query)."""
    return DETAIL_VALUES[published_only].rows(router.db_for_read(Product), gtin)


class ProductRowsMixin:
    """Lists and details rendered from plain rows (products.catalogue_rows): one query a page
    at any catalogue size. ``ProductSerializer`` declares their shape."""

    def list(self, request, *args, **kwargs):
        # The filters as the filter backend (config.filtering) validates them.
        (backend,) = self.filter_backends
        products = self.get_queryset()
        rows = catalogue_page_rows(
            backend().validated_filterset(request, products, self), products, CATALOGUE_PAGE
        )
        # The filter backend has validated population with the other parameters.
        population = request.query_params.get("population")
        response = self.get_paginated_response(
            product_rows(self.paginate_queryset(rows), population=population)
        )
        response.data.update(self.counts(request))
        return response

    def counts(self, request) -> dict:
        """``count`` and ``facets`` when asked: one aggregate query each."""
        wanted = {name: name in request.query_params for name in ("count", "facets")}
        if not any(wanted.values()):
            return {}
        filterset = self.filterset_class(
            request.query_params, queryset=self.get_queryset(), request=request
        )
        # The filter backend has validated the same parameters already.
        cleaned = filterset.form.cleaned_data if filterset.is_valid() else {}
        counts = {}
        if cleaned.get("count"):
            counts["count"] = filterset.qs.count()
        if cleaned.get("facets"):
            base = self.get_queryset()
            counts["facets"] = {
                facet: facet_counts(
                    facet, filterset.filter_queryset_except(base, own_filters(facet))
                )
                for facet in cleaned["facets"]
            }
        return counts

    @RETRIEVE_SCHEMA
    def retrieve(self, request, *args, **kwargs):
        gtin = kwargs[self.lookup_field]
        if nothing_to_filter(self.filterset_class, request):
            # What the filter backend would do with no filter asked: refuse unknown parameters.
            # Building the queryset it would return unchanged cost more than the query.
            refuse_parameters_unknown_to(self, request.query_params)
            rows = product_values_by_gtin(gtin, published_only=not self.shows_unpublished())
        else:
            products = self.filter_queryset(self.get_queryset()).filter(gtin=gtin)
            # One row by its unique GTIN: the list's ordering would only cost compiling it.
            rows = list(product_values(products.order_by(), "version"))
        if not rows:
            raise Http404
        row = product_rows(
            rows, with_health_claims=True, population=request.query_params.get("population")
        )[0]
        return Response(row, headers={"ETag": version_etag(rows[0]["version"])})


FACET_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["value", "count"],
        "properties": {
            "value": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
            "count": {"type": "integer", "minimum": 0},
        },
    },
}


# What the list adds to its page when asked; config/schema.py adds it to the page's schema.
COUNTS_SCHEMA = {
    "count": {
        "type": "integer",
        "minimum": 0,
        "description": "With count=true: the number of products the filters give.",
    },
    "facets": {
        "type": "object",
        "description": "With facets=...: per facet, the products per value under every other "
        "filter but the facet's own.",
        "properties": {facet: FACET_SCHEMA for facet in FACETS},
    },
}


# Declared on the view set too: CachedReadMixin's retrieve stands in front of the rows' one.
@extend_schema_view(retrieve=RETRIEVE_SCHEMA)
class ProductViewSet(
    CachedReadMixin,
    FieldSelectionMixin,
    ProductWriteMixin,
    ProductRowsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The public catalogue: published products with their derived amounts.

    Writes (products/api/write.py) need a token and the role's permission.
    """

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    lookup_field = "gtin"
    lookup_value_regex = "[0-9]{8,14}"
    read_depends_on = COLLECTION_ANSWER

    def read_dependencies(self, request, **kwargs):
        # A detail shows one product: other products' writes leave it cached.
        if self.lookup_field in kwargs:
            return detail_answer(kwargs[self.lookup_field])
        return self.read_depends_on

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return [ProductRolePermission()]

    def shows_unpublished(self) -> bool:
        # The list is the webshops' catalogue; a draft is looked up by its GTIN.
        return self.action == "retrieve" and may_see_unpublished(self.request.user)

    def get_queryset(self):
        return Product.objects.all() if self.shows_unpublished() else published_products()

    def filter_queryset(self, queryset):
        return ties_broken_by_gtin(super().filter_queryset(queryset))


def ties_broken_by_gtin(products):
    """The GTIN breaks ties, so the same ordering always gives the same pages."""
    return products.order_by(*products.query.order_by, "gtin")
