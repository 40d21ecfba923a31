from django.apps import AppConfig


class FormularyConfig(AppConfig):
    name = "formulary"
    verbose_name = "Formulary vocabulary"
