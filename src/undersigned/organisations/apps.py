from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OrganisationsConfig(AppConfig):
    name = "undersigned.organisations"
    label = "organisations"
    verbose_name = "Organisations"


class OperatorsAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site (``admin_site.py``): for the platform's operators only.
    Named in INSTALLED_APPS in place of ``django.contrib.admin``."""

    default = False  # not this app's own config: OrganisationsConfig is

    default_site = "undersigned.organisations.admin_site.OperatorsAdminSite"
