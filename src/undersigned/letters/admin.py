from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from .models import Letter, LetterText


class LetterTextInline(admin.StackedInline[LetterText, Letter]):
    """The letter's versions in other languages, to read: they change with the letter only
    (``letters.services.save_letter``)."""

    model = LetterText
    extra = 0
    can_delete = False
    readonly_fields = ["language", "subject", "body", "uniqueness"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin[Letter]):
    inlines = [LetterTextInline]

    # Deleting here would leave the campaign's kept tallies counting what is gone (a
    # supporter's letters go with the supporter): letters are deleted through
    # ``delivery.services.delete_letters``.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    list_display = ["id", "campaign", "sender_name", "uniqueness", "created_at", "sent_at"]
    list_filter = ["campaign"]
    readonly_fields = ["submission_key", "token", "ip_hash", "uniqueness", "sent_at", "deliveries"]

    @admin.display(description=_("Deliveries"))
    def deliveries(self, letter: Letter) -> SafeString:
        # A link to the deliveries' own admin, filtered to this letter, instead of an
        # inline: the letters app sits below delivery and must not import its models.
        url = reverse("admin:delivery_delivery_changelist") + f"?letter__id__exact={letter.pk}"
        return format_html('<a href="{}">{}</a>', url, _("This letter's deliveries"))
