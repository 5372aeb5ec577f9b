from django.apps import AppConfig


class SupportersConfig(AppConfig):
    name = "undersigned.supporters"
    label = "supporters"
    verbose_name = "Supporters"
