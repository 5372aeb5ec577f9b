from django.apps import AppConfig


class OpenLettersConfig(AppConfig):
    name = "undersigned.openletters"
    label = "openletters"
    verbose_name = "Open letters"
