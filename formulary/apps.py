from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FormularyConfig(AppConfig):
    name = "formulary"
    verbose_name = _("Vocabulary")

    def ready(self):
        from formulary.common.catalogue_version import connect_catalogue_signals

        connect_catalogue_signals()
