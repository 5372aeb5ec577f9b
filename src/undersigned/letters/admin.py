from django.contrib import admin

from undersigned.delivery.models import Delivery

from .models import Letter


class DeliveryInline(admin.TabularInline[Delivery, Letter]):
    model = Delivery
    extra = 0
    readonly_fields = ["recipient", "channel", "status", "evidence", "attempts", "last_error", "message_id"]
    can_delete = False


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin[Letter]):
    list_display = ["id", "campaign", "sender_name", "uniqueness", "created_at", "sent_at"]
    list_filter = ["campaign"]
    readonly_fields = ["submission_key", "token", "ip_hash", "uniqueness", "sent_at"]
    inlines = [DeliveryInline]
