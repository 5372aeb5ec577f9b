"""Open letters in the Django admin. Saving a published letter whose text changed makes a
new version (``services.versions.record_version``); endorsements are read-only here: their state
changes only through the services (confirm, withdraw, hide), which keep the counters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from undersigned.core.form_fields import TEXT_AS_LINES

from .models import Endorsement, OpenLetter, OpenLetterVersion
from .services import versions


class VersionInline(admin.TabularInline[OpenLetterVersion, OpenLetter]):
    model = OpenLetterVersion
    extra = 0
    fields = ["language", "number", "title", "text_hash", "created_at"]
    readonly_fields = ["language", "number", "title", "text_hash", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OpenLetter)
class OpenLetterAdmin(admin.ModelAdmin[OpenLetter]):
    list_display = ["title", "organisation", "status", "published_at", "verified_count", "withdrawn_count"]
    list_filter = ["status", "organisation"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["verified_count", "withdrawn_count", "current_version"]
    filter_horizontal = ["recipients"]
    inlines = [VersionInline]
    formfield_overrides = TEXT_AS_LINES

    def save_model(self, request: HttpRequest, obj: OpenLetter, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        versions.record_version(letter=obj, actor=request.user)


@admin.register(Endorsement)
class EndorsementAdmin(admin.ModelAdmin[Endorsement]):
    list_display = ["id", "letter", "kind", "status", "is_listed", "hidden", "featured", "created_at"]
    list_filter = ["status", "hidden", "featured", "kind", "letter"]
    # No email search: organisers moderate names, they do not look people up by address.
    search_fields = ["name", "organisation"]
    readonly_fields = [f.name for f in Endorsement._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
