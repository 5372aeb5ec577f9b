from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ConsentRecord, Supporter


class ConsentInline(admin.TabularInline[ConsentRecord, Supporter]):
    model = ConsentRecord
    extra = 0
    can_delete = False
    readonly_fields = ["purpose", "granted", "wording", "campaign", "source", "created_at"]
    exclude = ["ip_hash"]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Supporter)
class SupporterAdmin(admin.ModelAdmin[Supporter]):
    # Deleting here would leave the campaign's kept tallies counting what is gone (a
    # supporter's letters go with the supporter): letters are deleted through
    # ``delivery.services.delete_letters``.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    list_display = ["name", "email", "country", "created_at"]
    search_fields = ["name", "email"]
    inlines = [ConsentInline]
