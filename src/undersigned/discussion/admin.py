"""Organisers set each discussion up in the admin (open, closed, off; moderation; first
comments; proof of work) and can lift blocks. Comments are moderated in the dashboard,
where every act goes through a service and into the audit log."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .links import blocked_email_hash
from .models import Block, BlockKind, Discussion


@admin.register(Discussion)
class DiscussionAdmin(admin.ModelAdmin[Discussion]):
    list_display = ["__str__", "organisation", "mode", "moderation", "first_comment", "pow_required", "comment_count"]
    list_filter = ["mode", "moderation", "organisation"]
    readonly_fields = ["organisation", "campaign", "comment_count"]
    fields = [
        "organisation",
        "campaign",
        "mode",
        "close_after_deadline",
        "moderation",
        "first_comment",
        "max_links",
        "pow_required",
        "comment_count",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A discussion is made with its campaign's page (services.discussion_for).
        return False


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin[Block]):
    list_display = ["kind", "hint", "organisation", "reason", "created_by", "created_at"]
    list_filter = ["kind", "organisation"]
    readonly_fields = ["organisation", "kind", "hint", "value", "created_by", "created_at"]
    # An email block keeps only a keyed hash and a masked hint: typing the whole address
    # finds its block (by the hash); a part of it matches the hints.
    search_fields = ["hint"]
    search_help_text = "Type the whole email address to find its block."

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Block], search_term: str
    ) -> tuple[QuerySet[Block], bool]:
        term = search_term.strip()
        if "@" in term and "." in term.rpartition("@")[2]:
            return queryset.filter(kind=BlockKind.EMAIL, value=blocked_email_hash(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Blocks are made from a comment in the moderation queue; here they are only lifted.
        return False
