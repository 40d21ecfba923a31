from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = _("Product catalogue")

    def ready(self):
        from products import receivers  # noqa: F401  (connects the signal handlers)
