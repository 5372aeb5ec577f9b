from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "undersigned.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
