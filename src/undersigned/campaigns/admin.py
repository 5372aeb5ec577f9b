from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import ngettext_lazy

from undersigned.core.form_fields import TEXT_AS_LINES

from .models import Campaign, CampaignRecipient, LetterTemplate, Recipient, RecipientGroup, RecipientGroupMember

# The admin holds recipients and members to the limits campaign files are held to
# (docs/campaign-files.md), so no way of writing them makes a page longer than an import can.


class CampaignRecipientFormSet(BaseInlineFormSet[CampaignRecipient, Campaign, forms.ModelForm[CampaignRecipient]]):
    default_error_messages = {
        "too_many_forms": ngettext_lazy(
            "A campaign may have at most %(num)d recipient.", "A campaign may have at most %(num)d recipients.", "num"
        ),
    }


class CampaignRecipientInline(admin.TabularInline[CampaignRecipient, Campaign]):
    model = CampaignRecipient
    formset = CampaignRecipientFormSet
    extra = 0
    autocomplete_fields = ["recipient"]

    def get_max_num(self, request: HttpRequest, obj: Campaign | None = None, **kwargs: Any) -> int:
        return int(settings.CAMPAIGN_RECIPIENTS_MAX)  # read per request, so a changed setting applies

    def get_formset(self, request: HttpRequest, obj: Campaign | None = None, **kwargs: Any) -> Any:
        return super().get_formset(request, obj, validate_max=True, **kwargs)


class LetterTemplateInline(admin.StackedInline[LetterTemplate, Campaign]):
    model = LetterTemplate
    extra = 0
    formfield_overrides = TEXT_AS_LINES


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ["title", "organisation", "status", "deadline", "letters_sent"]
    list_filter = ["status", "organisation"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["letters_sent"]
    inlines = [LetterTemplateInline, CampaignRecipientInline]
    formfield_overrides = TEXT_AS_LINES


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin[Recipient]):
    list_display = ["name", "role", "organisation_name", "country", "email", "email_flagged_at", "email_flag_reason"]
    list_filter = ["organisation", "country", "daily_digest"]
    search_fields = ["name", "role", "organisation_name", "email"]
    formfield_overrides = TEXT_AS_LINES


class RecipientGroupMemberFormSet(
    BaseInlineFormSet[RecipientGroupMember, RecipientGroup, forms.ModelForm[RecipientGroupMember]]
):
    default_error_messages = {
        "too_many_forms": ngettext_lazy(
            "A recipient group may have at most %(num)d member.",
            "A recipient group may have at most %(num)d members.",
            "num",
        ),
    }


class RecipientGroupMemberInline(admin.TabularInline[RecipientGroupMember, RecipientGroup]):
    model = RecipientGroupMember
    formset = RecipientGroupMemberFormSet
    extra = 0
    autocomplete_fields = ["recipient"]

    def get_max_num(self, request: HttpRequest, obj: RecipientGroup | None = None, **kwargs: Any) -> int:
        return int(settings.RECIPIENT_GROUP_MEMBERS_MAX)

    def get_formset(self, request: HttpRequest, obj: RecipientGroup | None = None, **kwargs: Any) -> Any:
        return super().get_formset(request, obj, validate_max=True, **kwargs)


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin[RecipientGroup]):
    list_display = ["name", "organisation", "decision_date"]
    inlines = [RecipientGroupMemberInline]
