from django.contrib import admin

from .models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ["id", "letter", "recipient", "channel", "status", "evidence", "attempts", "updated_at"]
    list_filter = ["channel", "status", "evidence"]
    readonly_fields = ["letter", "recipient", "channel", "attempts", "last_error", "message_id", "reported_at"]
