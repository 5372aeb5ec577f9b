from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "undersigned.organisations"
    label = "organisations"
    verbose_name = "Organisations"
