from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "undersigned.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from . import signals  # noqa: F401, PLC0415 (connects the receivers; models must be loaded first)
