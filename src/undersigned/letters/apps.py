from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "undersigned.letters"
    label = "letters"
    verbose_name = "Letters"
