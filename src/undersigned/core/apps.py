from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "undersigned.core"
    label = "core"
    verbose_name = "Core"
