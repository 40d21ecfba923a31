"""The product admin's "revert to this version": lines and derived amounts follow the product."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from products.history import product_restore_lines
from products.models import Product


class ProductHistoryMixin:
    """For a SimpleHistoryAdmin of Product."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        with transaction.atomic():
            response = super().history_form_view(request, object_id, version_id, extra_context)
            if request.method != "POST" or response.status_code != 302:
                return response
            product = Product.objects.get(pk=object_id)
            try:
                product_restore_lines(product=product, version_id=version_id)
            except ValidationError as error:
                transaction.set_rollback(True)
                messages.error(
                    request,
                    _("This version could not be restored: %(reason)s")
                    % {"reason": " ".join(error.messages)},
                )
                return HttpResponseRedirect(request.path)
        return response
