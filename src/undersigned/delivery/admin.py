from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    # Deleting here would leave the campaign's kept tallies counting what is gone (a
    # supporter's letters go with the supporter): letters are deleted through
    # ``delivery.services.delete_letters``.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

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
