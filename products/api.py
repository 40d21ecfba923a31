from django.http import Http404
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from formulary.read_cache import CachedReadMixin
from products.catalogue_rows import PRODUCT_COLUMNS, product_rows
from products.filters import ProductFilter
from products.selectors import published_products
from products.serializers import ProductSerializer


class ProductRowsMixin:
    """Lists and details rendered from plain rows (products.catalogue_rows): three queries
    a page at any catalogue size. ``ProductSerializer`` declares their shape."""

    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset()).values(*PRODUCT_COLUMNS)
        return self.get_paginated_response(product_rows(self.paginate_queryset(rows)))

    def retrieve(self, request, *args, **kwargs):
        rows = self.get_queryset().filter(gtin=kwargs[self.lookup_field]).values(*PRODUCT_COLUMNS)
        if not rows:
            raise Http404
        return Response(product_rows(rows)[0])


class ProductViewSet(CachedReadMixin, ProductRowsMixin, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The public catalogue: published products with their derived amounts."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    lookup_field = "gtin"
    lookup_value_regex = "[0-9]{8,14}"

    def get_queryset(self):
        return published_products()

    def filter_queryset(self, queryset):
        filtered = super().filter_queryset(queryset)
        # The GTIN breaks ties, so the same ordering always gives the same pages.
        return filtered.order_by(*filtered.query.order_by, "gtin")
