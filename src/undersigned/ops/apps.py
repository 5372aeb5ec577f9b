from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "undersigned.ops"
    label = "ops"
    verbose_name = "Operations"
