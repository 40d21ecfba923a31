from django.http import Http404
from rest_framework import mixins, permissions, viewsets
from rest_framework.response import Response

from formulary.common.read_cache import CachedReadMixin
from products.api.filters import ProductFilter
from products.api.permissions import ProductRolePermission, may_see_unpublished
from products.api.serializers import ProductSerializer
from products.api.write import RETRIEVE_SCHEMA, ProductWriteMixin, version_etag
from products.catalogue_rows import product_rows, product_values
from products.models import Product
from products.selectors import published_products


class ProductRowsMixin:
    """Lists and details rendered from plain rows (products.catalogue_rows): one query a page
    at any catalogue size. ``ProductSerializer`` declares their shape."""

    def list(self, request, *args, **kwargs):
        rows = product_values(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(product_rows(self.paginate_queryset(rows)))

    @RETRIEVE_SCHEMA
    def retrieve(self, request, *args, **kwargs):
        gtin = kwargs[self.lookup_field]
        products = self.filter_queryset(self.get_queryset()).filter(gtin=gtin)
        rows = list(product_values(products, "version"))
        if not rows:
            raise Http404
        return Response(product_rows(rows)[0], headers={"ETag": version_etag(rows[0]["version"])})


class ProductViewSet(
    CachedReadMixin,
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

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return [ProductRolePermission()]

    def get_queryset(self):
        # The list is the webshops' catalogue; a draft is looked up by its GTIN.
        if self.action == "retrieve" and may_see_unpublished(self.request.user):
            return Product.objects.all()
        return published_products()

    def filter_queryset(self, queryset):
        filtered = super().filter_queryset(queryset)
        # The GTIN breaks ties, so the same ordering always gives the same pages.
        return filtered.order_by(*filtered.query.order_by, "gtin")
