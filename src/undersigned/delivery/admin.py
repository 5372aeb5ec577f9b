from django.contrib import admin

from .models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = [
        "id",
        "letter",
        "recipient",
        "channel",
        "status",
        "evidence",
        "attempts",
        "last_error",
        "updated_at",
    ]
    list_filter = ["channel", "status", "evidence"]
    readonly_fields = [
        "letter", "recipient", "channel", "attempts", "last_error", "message_id", "reported_at", "smtp_response",
        "next_attempt_at", "sending_started_at", "sent_at", "verified_at", "bounced_at", "copy_text", "digest",
    ]  # fmt: skip
    search_fields = ["last_error", "message_id"]
