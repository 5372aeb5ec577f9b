from django.urls import path

from . import moderation, open_letters, team, views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("mail/", views.mailbox, name="mailbox"),
    path("moderation/", moderation.queue, name="moderation"),
    path("moderation/comments/<int:comment_id>/", moderation.act, name="moderation_act"),
    path("campaigns/<slug:slug>/print/", views.print_page, name="print"),
    path("campaigns/<slug:slug>/deliveries/", views.deliveries_page, name="deliveries"),
    path("print-jobs/<int:job_id>/", views.print_job, name="print_job"),
    path("print-jobs/<int:job_id>/download/", views.print_job_download, name="print_job_download"),
    path("print-jobs/<int:job_id>/posted/", views.print_job_posted, name="print_job_posted"),
    path("open-letters/<slug:slug>/", open_letters.open_letter_page, name="open_letter"),
    path("open-letters/<slug:slug>/pow/", open_letters.set_pow, name="open_letter_pow"),
    path("open-letters/<slug:slug>/hand-in/", open_letters.start_hand_in, name="hand_in"),
    path("open-letters/<slug:slug>/hand-in.csv", open_letters.hand_in_csv, name="hand_in_csv"),
    path(
        "open-letters/<slug:slug>/endorsements/<int:endorsement_id>/hide/",
        open_letters.hide_endorsement,
        name="endorsement_hide",
    ),
    path(
        "open-letters/<slug:slug>/endorsements/<int:endorsement_id>/restore/",
        open_letters.restore_endorsement,
        name="endorsement_restore",
    ),
    path(
        "open-letters/<slug:slug>/endorsements/<int:endorsement_id>/feature/",
        open_letters.feature_endorsement,
        name="endorsement_feature",
    ),
]

# The team and the organisation's settings (dashboard/team.py); an invitation's link.
urlpatterns += [
    path("organisations/", team.organisations, name="organisations"),
    path("organisations/<slug:org_slug>/team/", team.team, name="team"),
    path("organisations/<slug:org_slug>/team/invite/", team.invite, name="team_invite"),
    path(
        "organisations/<slug:org_slug>/team/invitations/<int:invitation_id>/resend/",
        team.resend_invitation,
        name="invitation_resend",
    ),
    path(
        "organisations/<slug:org_slug>/team/invitations/<int:invitation_id>/revoke/",
        team.revoke_invitation,
        name="invitation_revoke",
    ),
    path("organisations/<slug:org_slug>/team/members/<int:membership_id>/role/", team.change_role, name="member_role"),
    path(
        "organisations/<slug:org_slug>/team/members/<int:membership_id>/remove/",
        team.remove_member,
        name="member_remove",
    ),
    path("organisations/<slug:org_slug>/settings/", team.organisation_settings, name="organisation_settings"),
    path("two-factor/", team.two_factor_required, name="two_factor_required"),
    path("invitations/<str:token>/", team.invitation, name="invitation"),
]
