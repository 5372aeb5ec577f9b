from django.urls import path

from . import campaign_editor, moderation, open_letter_editor, open_letters, views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("mail/", views.mailbox, name="mailbox"),
    path("moderation/", moderation.queue, name="moderation"),
    path("moderation/comments/<int:comment_id>/", moderation.act, name="moderation_act"),
    # The editor (campaign_editor.py, open_letter_editor.py).
    path("o/<slug:organisation>/campaigns/new/", campaign_editor.campaign_new, name="campaign_new"),
    path("campaigns/<slug:slug>/edit/", campaign_editor.campaign_edit, name="campaign_edit"),
    path("campaigns/<slug:slug>/status/", campaign_editor.campaign_status, name="campaign_status"),
    path("campaigns/<slug:slug>/duplicate/", campaign_editor.campaign_duplicate, name="campaign_duplicate"),
    path("o/<slug:organisation>/open-letters/new/", open_letter_editor.open_letter_new, name="open_letter_new"),
    path("open-letters/<slug:slug>/edit/", open_letter_editor.open_letter_edit, name="open_letter_edit"),
    path("open-letters/<slug:slug>/status/", open_letter_editor.open_letter_status, name="open_letter_status"),
    path("open-letters/<slug:slug>/duplicate/", open_letter_editor.open_letter_duplicate, name="open_letter_duplicate"),
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
