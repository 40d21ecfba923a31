from django.apps import AppConfig


class FormularyConfig(AppConfig):
    name = "formulary"
    verbose_name = "Formulary vocabulary"

    def ready(self):
        from formulary.common.catalogue_version import connect_catalogue_signals

        connect_catalogue_signals()
