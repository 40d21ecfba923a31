from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from compounds.api import (
    CompoundViewSet,
    ElementalCalculatorView,
    IndicationViewSet,
    MedicationViewSet,
)
from config.views import healthz, readyz
from products.api import ProductViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = True
router.register("indications", IndicationViewSet, basename="indication")
router.register("compounds", CompoundViewSet, basename="compound")
router.register("medications", MedicationViewSet, basename="medication")
router.register("products", ProductViewSet, basename="product")

api_v1 = [
    path("calculate/elemental/", ElementalCalculatorView.as_view(), name="calculate-elemental"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
