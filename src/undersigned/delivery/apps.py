from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "undersigned.delivery"
    label = "delivery"
    verbose_name = "Delivery"
