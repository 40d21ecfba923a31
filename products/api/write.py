"""Writes to the catalogue over HTTP: create, replace, change and delete a product by GTIN.

Who may write is decided by products.api.permissions; what is valid, by products.services, the
same functions the admin and the loaders use. Each product carries a version that every save
raises: it is the ETag, and PUT, PATCH and DELETE must send it back in If-Match so that a
client that read an older version cannot overwrite a change it has not seen.
"""

from django.shortcuts import get_object_or_404
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from products.api.serializers import ProductDetailSerializer
from products.api.write_serializers import ProductWriteSerializer
from products.models import Product
from products.selectors import catalogue_products
from products.services import (
    ProductNotDeletable,
    StaleProductVersion,
    product_delete,
)


class IfMatchRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "if_match_required"
    default_detail = (
        "Send the product's ETag in an If-Match header: read the product first, so that you "
        "do not overwrite a change you have not seen."
    )


class StaleVersion(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"

    def __init__(self, current_version: int):
        super().__init__(
            f"The product was changed since you read it; it is now at ETag "
            f'"{current_version}". Read it again, apply your change to that version and send '
            "its ETag in If-Match."
        )


class NotDeletable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_deletable"


def version_etag(version: int) -> str:
    """Strong and cheap: the product's version, raised by every save, not a content hash."""
    return f'"{version}"'


def expected_version(request, product: Product) -> int | None:
    """The version the client read, from If-Match; ``None`` for ``*`` (any version)."""
    header = request.headers.get("If-Match")
    if header is None:
        raise IfMatchRequired()
    tags = parse_etags(header)
    if tags == ["*"]:
        return None
    # If-Match compares strongly: a weak tag (W/"7") never matches.
    if version_etag(product.version) not in tags:
        raise StaleVersion(product.version)
    return product.version


def error_response(description: str) -> OpenApiResponse:
    """The body is the error envelope; config.schema fills it in on every error response."""
    return OpenApiResponse(description=description)


AUTH_ERRORS = {
    401: error_response(
        "No or an invalid token: send `Authorization: Token <token>` "
        "(issued by `manage.py api_token issue`)."
    ),
    403: error_response("The token's user has no permission to change products."),
}
INVALID_BODY = {
    400: error_response(
        "Invalid body: each detail names the field, e.g. `ingredients[1].amount_mg`. "
        "Nothing was written."
    ),
}
PRECONDITION_ERRORS = {
    404: error_response("No product with this GTIN."),
    412: error_response("If-Match does not name the product's current ETag: read it again."),
    428: error_response("If-Match is missing."),
}
IF_MATCH = OpenApiParameter(
    "If-Match",
    location=OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the product as you read it, e.g. "3"; `*` for any version.',
)
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    type=str,
    description="The product's version, for If-Match.",
)


RETRIEVE_SCHEMA = extend_schema(
    parameters=[ETAG],
    responses={200: ProductDetailSerializer},
    description=(
        "A published product to anyone; a draft or discontinued one too to a token whose user "
        "may view products (shop staff, pharmacist editors). The ETag is the product's version."
    ),
)


def change_schema(description: str):
    return extend_schema(
        request=ProductWriteSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={
            200: ProductDetailSerializer,
            **INVALID_BODY,
            **AUTH_ERRORS,
            **PRECONDITION_ERRORS,
        },
        description=description,
    )


class ProductWriteMixin:
    """The write actions of the product view set, and the ETag and draft rules of its reads."""

    write_actions = frozenset({"create", "update", "partial_update", "destroy"})

    def product_response(self, product, status_code=status.HTTP_200_OK, **headers):
        loaded = catalogue_products().get(pk=product.pk)
        data = ProductDetailSerializer(loaded, context=self.get_serializer_context()).data
        headers = {"ETag": version_etag(loaded.version), **headers}
        return Response(data, status=status_code, headers=headers)

    def product_to_write(self) -> Product:
        return get_object_or_404(Product.objects.all(), gtin=self.kwargs["gtin"])

    def save(self, serializer, **kwargs):
        try:
            return serializer.save(**kwargs)
        except StaleProductVersion as stale:
            raise StaleVersion(stale.current_version) from stale

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.action == "retrieve":
            # Who asks decides whether a draft is found at all.
            patch_vary_headers(response, ["Authorization"])
        return response

    @extend_schema(
        request=ProductWriteSerializer,
        parameters=[ETAG],
        responses={
            201: OpenApiResponse(ProductDetailSerializer, description="Created."),
            **INVALID_BODY,
            **AUTH_ERRORS,
        },
        description="Create a product with its lines; status `draft` unless given. "
        "Needs the add-product permission (shop staff).",
    )
    def create(self, request, *args, **kwargs):
        serializer = ProductWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = self.save(serializer)
        location = self.reverse_action("detail", kwargs={"gtin": product.gtin})
        return self.product_response(product, status.HTTP_201_CREATED, Location=location)

    @change_schema(
        "Replace the product and all its lines. Needs the change-product permission and If-Match."
    )
    def update(self, request, *args, **kwargs):
        return self.write(request, partial=False)

    @change_schema(
        "Change some fields. `ingredients` or `nutrients`, when sent, replace all lines of "
        "their kind. Needs the change-product permission and If-Match."
    )
    def partial_update(self, request, *args, **kwargs):
        return self.write(request, partial=True)

    def write(self, request, *, partial):
        product = self.product_to_write()
        version = expected_version(request, product)
        serializer = ProductWriteSerializer(product, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self.product_response(self.save(serializer, expected_version=version))

    @extend_schema(
        parameters=[IF_MATCH],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **AUTH_ERRORS,
            **PRECONDITION_ERRORS,
            409: error_response(
                "Only drafts can be deleted: discontinue a published product instead."
            ),
        },
        description="Delete a draft. Needs the delete-product permission and If-Match.",
    )
    def destroy(self, request, *args, **kwargs):
        product = self.product_to_write()
        version = expected_version(request, product)
        try:
            product_delete(product=product, expected_version=version)
        except StaleProductVersion as stale:
            raise StaleVersion(stale.current_version) from stale
        except ProductNotDeletable as refused:
            raise NotDeletable(refused.message) from refused
        return Response(status=status.HTTP_204_NO_CONTENT)
