from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "undersigned.public"
    label = "public"
    verbose_name = "Public"
