from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"

    def ready(self):
        from products import receivers  # noqa: F401  (connects the signal handlers)
