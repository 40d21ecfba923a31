from rest_framework import mixins, permissions, viewsets

from formulary.selectors import adult_nrv_mg, adult_upper_limits_mg
from products.api_write import ProductWriteMixin
from products.enums import ProductStatus
from products.filters import ProductFilter
from products.permissions import ProductRolePermission, may_see_unpublished
from products.selectors import catalogue_products
from products.serializers import ProductSerializer


class ProductViewSet(
    ProductWriteMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The public catalogue: published products with their derived amounts.

    Writes (products/api_write.py) need a token and the role's permission.
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
        products = catalogue_products()
        # The list is the webshops' catalogue; a draft is looked up by its GTIN.
        if self.action == "retrieve" and may_see_unpublished(self.request.user):
            return products
        return products.filter(status=ProductStatus.PUBLISHED)

    def filter_queryset(self, queryset):
        filtered = super().filter_queryset(queryset)
        # The GTIN breaks ties, so the same ordering always gives the same pages.
        return filtered.order_by(*filtered.query.order_by, "gtin")

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "nrv_mg": adult_nrv_mg(),
            "upper_limits_mg": adult_upper_limits_mg(),
        }
