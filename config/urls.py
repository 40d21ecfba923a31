from django.contrib import admin
from django.urls import include, path
from django.views.decorators.gzip import gzip_page
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from compounds.api import ElementalCalculatorView, MedicationViewSet
from config.views import healthz, readyz
from products.api.advice import AdviceView
from products.api.catalogue import ProductViewSet
from products.api.feed import ChangesView, ProductFeedView
from products.api.match import ProductMatchView
from products.api.regimen import RegimenView
from products.api.vocabulary import (
    CountedCompoundViewSet,
    CountedIndicationViewSet,
    CountedRiskGroupViewSet,
    CountedSymptomViewSet,
)

# Endpoints outside the router, listed on /api/v1/ with the router's own.
ROOT_ENTRIES = {
    "products/match": "product-match",
    "advice": "advice",
    "regimen": "regimen",
    "calculate/elemental": "calculate-elemental",
    "feed": "feed",
    "changes": "changes",
    "schema": "schema",
    "docs": "docs",
}


class EveryEndpointRouter(DefaultRouter):
    """DRF's router, whose root view lists the other endpoints of the API as well."""

    def get_api_root_view(self, api_urls=None):
        list_name = self.routes[0].name
        entries = {
            prefix: list_name.format(basename=basename) for prefix, _, basename in self.registry
        }
        return self.APIRootView.as_view(api_root_dict={**entries, **ROOT_ENTRIES})


router = EveryEndpointRouter(trailing_slash=True)
router.include_root_view = True
# The vocabularies with their published-product counts (products.api.vocabulary).
router.register("indications", CountedIndicationViewSet, basename="indication")
router.register("compounds", CountedCompoundViewSet, basename="compound")
router.register("medications", MedicationViewSet, basename="medication")
router.register("products", ProductViewSet, basename="product")
router.register("symptoms", CountedSymptomViewSet, basename="symptom")
router.register("risk-groups", CountedRiskGroupViewSet, basename="risk-group")

api_v1 = [
    path("calculate/elemental/", ElementalCalculatorView.as_view(), name="calculate-elemental"),
    path("products/match/", ProductMatchView.as_view(), name="product-match"),
    path("advice/", AdviceView.as_view(), name="advice"),
    path("regimen/", RegimenView.as_view(), name="regimen"),
    # Compressed as it streams, when the client accepts gzip.
    path("feed/", gzip_page(ProductFeedView.as_view()), name="feed"),
    path("changes/", ChangesView.as_view(), name="changes"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
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
