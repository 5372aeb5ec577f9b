from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import path

from undersigned.core.lazy_views import on_first_use


def _view(name: str) -> Callable[..., HttpResponseBase]:
    """The view ``name`` of this package, imported by the first request that reaches it:
    a worker serving public pages never imports the dashboard (core/lazy_views.py). Every
    dashboard view is a ``personal_page``; tests/test_lazy_imports.py checks both."""
    return on_first_use(f"undersigned.dashboard.{name}", personal_page=True)


app_name = "dashboard"
# An organisation's own pages (recipients, campaign files, new campaigns and open letters).
_ORGANISATION = "organisations/<slug:organisation>/"
urlpatterns = [
    path(f"{_ORGANISATION}recipients/", _view("recipients.recipient_list"), name="recipients"),
    path(f"{_ORGANISATION}recipients/new/", _view("recipients.recipient_new"), name="recipient_new"),
    path(f"{_ORGANISATION}recipients/import/", _view("recipients.recipient_import"), name="recipient_import"),
    path(
        f"{_ORGANISATION}recipients/import/apply/",
        _view("recipients.recipient_import_apply"),
        name="recipient_import_apply",
    ),
    path(f"{_ORGANISATION}recipients/<int:recipient_id>/", _view("recipients.recipient_edit"), name="recipient"),
    path(
        f"{_ORGANISATION}recipients/<int:recipient_id>/delete/",
        _view("recipients.recipient_delete"),
        name="recipient_delete",
    ),
    path(
        f"{_ORGANISATION}recipients/<int:recipient_id>/groups/",
        _view("recipients.recipient_add_to_group"),
        name="recipient_add_to_group",
    ),
    path(f"{_ORGANISATION}groups/", _view("recipients.group_list"), name="recipient_groups"),
    path(f"{_ORGANISATION}groups/<int:group_id>/", _view("recipients.group_page"), name="recipient_group"),
    path(f"{_ORGANISATION}campaign-files/", _view("campaign_files.campaign_files"), name="campaign_files"),
    path("campaigns/<slug:slug>/file/", _view("campaign_files.campaign_file"), name="campaign_file"),
    path("open-letters/<slug:slug>/file/", _view("campaign_files.open_letter_file"), name="open_letter_file"),
    path("", _view("views.index"), name="index"),
    path("mail/", _view("views.mailbox"), name="mailbox"),
    path("moderation/", _view("moderation.queue"), name="moderation"),
    path("moderation/comments/<int:comment_id>/", _view("moderation.act"), name="moderation_act"),
    # The editor (campaign_editor.py, open_letter_editor.py).
    path(f"{_ORGANISATION}campaigns/new/", _view("campaign_editor.campaign_new"), name="campaign_new"),
    path("campaigns/<slug:slug>/edit/", _view("campaign_editor.campaign_edit"), name="campaign_edit"),
    path("campaigns/<slug:slug>/status/", _view("campaign_editor.campaign_status"), name="campaign_status"),
    path("campaigns/<slug:slug>/duplicate/", _view("campaign_editor.campaign_duplicate"), name="campaign_duplicate"),
    # The editor's language tabs (campaign_languages.py).
    path("campaigns/<slug:slug>/languages/", _view("campaign_languages.campaign_languages"), name="campaign_languages"),
    path(
        "campaigns/<slug:slug>/languages/<str:language>/",
        _view("campaign_languages.campaign_language"),
        name="campaign_language",
    ),
    path(f"{_ORGANISATION}open-letters/new/", _view("open_letter_editor.open_letter_new"), name="open_letter_new"),
    path("open-letters/<slug:slug>/edit/", _view("open_letter_editor.open_letter_edit"), name="open_letter_edit"),
    # The open-letter editor's language tabs (open_letter_languages.py).
    path(
        "open-letters/<slug:slug>/languages/",
        _view("open_letter_languages.open_letter_languages"),
        name="open_letter_languages",
    ),
    path(
        "open-letters/<slug:slug>/languages/<str:language>/",
        _view("open_letter_languages.open_letter_language"),
        name="open_letter_language",
    ),
    path("open-letters/<slug:slug>/status/", _view("open_letter_editor.open_letter_status"), name="open_letter_status"),
    path(
        "open-letters/<slug:slug>/duplicate/",
        _view("open_letter_editor.open_letter_duplicate"),
        name="open_letter_duplicate",
    ),
    # Discussion settings (discussion_settings.py) and the composer's proof of work.
    path(
        "campaigns/<slug:slug>/discussion/",
        _view("discussion_settings.campaign_discussion"),
        name="campaign_discussion",
    ),
    path(
        "open-letters/<slug:slug>/discussion/",
        _view("discussion_settings.open_letter_discussion"),
        name="open_letter_discussion",
    ),
    path("campaigns/<slug:slug>/pow/", _view("views.campaign_pow"), name="campaign_pow"),
    path("campaigns/<slug:slug>/print/", _view("views.print_page"), name="print"),
    path("campaigns/<slug:slug>/deliveries/", _view("views.deliveries_page"), name="deliveries"),
    path("campaigns/<slug:slug>/results/", _view("results.campaign_results"), name="campaign_results"),
    path("campaigns/<slug:slug>/replies/", _view("reply_views.campaign_replies"), name="campaign_replies"),
    path(
        "campaigns/<slug:slug>/replies/<int:reply_id>/approve/",
        _view("reply_views.approve_reply"),
        name="approve_reply",
    ),
    path("campaigns/<slug:slug>/replies/<int:reply_id>/file/", _view("reply_views.reply_file"), name="reply_file"),
    path("open-letters/<slug:slug>/results/", _view("results.open_letter_results"), name="open_letter_results"),
    path("campaigns/<slug:slug>/coverage/", _view("coverage.campaign_coverage"), name="campaign_coverage"),
    path("open-letters/<slug:slug>/coverage/", _view("coverage.open_letter_coverage"), name="open_letter_coverage"),
    path("campaigns/<slug:slug>/export/letters.csv", _view("exports.campaign_letters"), name="export_letters"),
    path("campaigns/<slug:slug>/export/deliveries.csv", _view("exports.campaign_deliveries"), name="export_deliveries"),
    path("campaigns/<slug:slug>/export/supporters.csv", _view("exports.campaign_supporters"), name="export_supporters"),
    path("print-jobs/<int:job_id>/", _view("views.print_job"), name="print_job"),
    path("print-jobs/<int:job_id>/download/", _view("views.print_job_download"), name="print_job_download"),
    path("print-jobs/<int:job_id>/posted/", _view("views.print_job_posted"), name="print_job_posted"),
    path("open-letters/<slug:slug>/", _view("open_letters.open_letter_page"), name="open_letter"),
    path("open-letters/<slug:slug>/pow/", _view("open_letters.set_pow"), name="open_letter_pow"),
    path("open-letters/<slug:slug>/hand-in/", _view("open_letters.start_hand_in"), name="hand_in"),
    path("open-letters/<slug:slug>/hand-in.csv", _view("open_letters.hand_in_csv"), name="hand_in_csv"),
    # Every section at once (hand_in_sections.py).
    path("open-letters/<slug:slug>/sections/", _view("hand_in_sections.sections_page"), name="hand_in_sections"),
    path(
        "open-letters/<slug:slug>/sections/build/",
        _view("hand_in_sections.sections_build"),
        name="hand_in_sections_build",
    ),
    path(
        "open-letters/<slug:slug>/sections/send/", _view("hand_in_sections.sections_send"), name="hand_in_sections_send"
    ),
    path(
        "open-letters/<slug:slug>/sections/<int:recipient_id>/record/",
        _view("hand_in_sections.sections_record"),
        name="hand_in_sections_record",
    ),
    path(
        "open-letters/<slug:slug>/export/endorsements.csv",
        _view("exports.open_letter_endorsements"),
        name="export_endorsements",
    ),
    path(
        "open-letters/<slug:slug>/export/supporters.csv",
        _view("exports.open_letter_supporters"),
        name="export_endorsers_agreed",
    ),
    path(
        "open-letters/<slug:slug>/endorsements/<int:endorsement_id>/hide/",
        _view("open_letters.hide_endorsement"),
        name="endorsement_hide",
    ),
    path(
        "open-letters/<slug:slug>/endorsements/<int:endorsement_id>/restore/",
        _view("open_letters.restore_endorsement"),
        name="endorsement_restore",
    ),
    path(
        "open-letters/<slug:slug>/endorsements/<int:endorsement_id>/feature/",
        _view("open_letters.feature_endorsement"),
        name="endorsement_feature",
    ),
]

# Updates to supporters and endorsers who agreed to hear more (dashboard/updates.py).
urlpatterns += [
    path("campaigns/<slug:slug>/updates/", _view("updates.campaign_updates"), name="campaign_updates"),
    path("campaigns/<slug:slug>/updates/new/", _view("updates.campaign_update_new"), name="campaign_update_new"),
    path("campaigns/<slug:slug>/updates/<int:update_id>/", _view("updates.campaign_update"), name="campaign_update"),
    path(
        "campaigns/<slug:slug>/updates/<int:update_id>/edit/",
        _view("updates.campaign_update_edit"),
        name="campaign_update_edit",
    ),
    path(
        "campaigns/<slug:slug>/updates/<int:update_id>/send/",
        _view("updates.campaign_update_send"),
        name="campaign_update_send",
    ),
    path("open-letters/<slug:slug>/updates/", _view("updates.open_letter_updates"), name="open_letter_updates"),
    path(
        "open-letters/<slug:slug>/updates/new/", _view("updates.open_letter_update_new"), name="open_letter_update_new"
    ),
    path(
        "open-letters/<slug:slug>/updates/<int:update_id>/",
        _view("updates.open_letter_update"),
        name="open_letter_update",
    ),
    path(
        "open-letters/<slug:slug>/updates/<int:update_id>/edit/",
        _view("updates.open_letter_update_edit"),
        name="open_letter_update_edit",
    ),
    path(
        "open-letters/<slug:slug>/updates/<int:update_id>/send/",
        _view("updates.open_letter_update_send"),
        name="open_letter_update_send",
    ),
]

# The team and the organisation's settings (dashboard/team.py); an invitation's link.
urlpatterns += [
    path("organisations/", _view("team.organisations"), name="organisations"),
    path(f"{_ORGANISATION}team/", _view("team.team"), name="team"),
    path(f"{_ORGANISATION}team/invite/", _view("team.invite"), name="team_invite"),
    path(
        f"{_ORGANISATION}team/invitations/<int:invitation_id>/resend/",
        _view("team.resend_invitation"),
        name="invitation_resend",
    ),
    path(
        f"{_ORGANISATION}team/invitations/<int:invitation_id>/revoke/",
        _view("team.revoke_invitation"),
        name="invitation_revoke",
    ),
    path(f"{_ORGANISATION}team/members/<int:membership_id>/role/", _view("team.change_role"), name="member_role"),
    path(
        f"{_ORGANISATION}team/members/<int:membership_id>/remove/",
        _view("team.remove_member"),
        name="member_remove",
    ),
    path(f"{_ORGANISATION}settings/", _view("team.organisation_settings"), name="organisation_settings"),
    path("two-factor/", _view("team.two_factor_required"), name="two_factor_required"),
    path("invitations/<str:token>/", _view("team.invitation"), name="invitation"),
]
