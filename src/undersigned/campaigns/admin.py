from django.contrib import admin

from .models import Campaign, CampaignRecipient, LetterTemplate, Recipient, RecipientGroup, RecipientGroupMember


class CampaignRecipientInline(admin.TabularInline[CampaignRecipient, Campaign]):
    model = CampaignRecipient
    extra = 0
    autocomplete_fields = ["recipient"]


class LetterTemplateInline(admin.StackedInline[LetterTemplate, Campaign]):
    model = LetterTemplate
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ["title", "organisation", "status", "deadline", "letters_sent"]
    list_filter = ["status", "organisation"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["letters_sent"]
    inlines = [LetterTemplateInline, CampaignRecipientInline]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin[Recipient]):
    list_display = ["name", "role", "organisation_name", "country", "email", "email_flagged_at", "email_flag_reason"]
    list_filter = ["organisation", "country", "daily_digest"]
    search_fields = ["name", "role", "organisation_name", "email"]


class RecipientGroupMemberInline(admin.TabularInline[RecipientGroupMember, RecipientGroup]):
    model = RecipientGroupMember
    extra = 0
    autocomplete_fields = ["recipient"]


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin[RecipientGroup]):
    list_display = ["name", "organisation", "decision_date"]
    inlines = [RecipientGroupMemberInline]
