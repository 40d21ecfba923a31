"""Who may do what through the product API: the roles' model permissions, as in the admin."""

from rest_framework.permissions import DjangoModelPermissions

VIEW_PRODUCT = "products.view_product"


class ProductRolePermission(DjangoModelPermissions):
    """POST needs add_product, PUT and PATCH change_product, DELETE delete_product.

    The groups of products/migrations/0002_staff_groups.py hand these out: shop staff have
    them, pharmacist editors only view_product; a superuser has every permission.
    """


def may_see_unpublished(user) -> bool:
    """Drafts and discontinued products are visible to users who may view products."""
    return user is not None and user.is_authenticated and user.has_perm(VIEW_PRODUCT)
