from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "undersigned.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
