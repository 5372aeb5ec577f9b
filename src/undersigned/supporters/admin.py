from django.contrib import admin

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
    list_display = ["name", "email", "country", "created_at"]
    search_fields = ["name", "email"]
    inlines = [ConsentInline]
