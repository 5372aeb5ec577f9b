from django.urls import path

from . import exports, moderation, open_letters, views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("mail/", views.mailbox, name="mailbox"),
    path("moderation/", moderation.queue, name="moderation"),
    path("moderation/comments/<int:comment_id>/", moderation.act, name="moderation_act"),
    path("campaigns/<slug:slug>/print/", views.print_page, name="print"),
    path("campaigns/<slug:slug>/deliveries/", views.deliveries_page, name="deliveries"),
    path("campaigns/<slug:slug>/export/letters.csv", exports.campaign_letters, name="export_letters"),
    path("campaigns/<slug:slug>/export/deliveries.csv", exports.campaign_deliveries, name="export_deliveries"),
    path("campaigns/<slug:slug>/export/supporters.csv", exports.campaign_supporters, name="export_supporters"),
    path("print-jobs/<int:job_id>/", views.print_job, name="print_job"),
    path("print-jobs/<int:job_id>/download/", views.print_job_download, name="print_job_download"),
    path("print-jobs/<int:job_id>/posted/", views.print_job_posted, name="print_job_posted"),
    path("open-letters/<slug:slug>/", open_letters.open_letter_page, name="open_letter"),
    path("open-letters/<slug:slug>/pow/", open_letters.set_pow, name="open_letter_pow"),
    path("open-letters/<slug:slug>/hand-in/", open_letters.start_hand_in, name="hand_in"),
    path("open-letters/<slug:slug>/hand-in.csv", open_letters.hand_in_csv, name="hand_in_csv"),
    path(
        "open-letters/<slug:slug>/export/endorsements.csv",
        exports.open_letter_endorsements,
        name="export_endorsements",
    ),
    path(
        "open-letters/<slug:slug>/export/supporters.csv",
        exports.open_letter_supporters,
        name="export_endorsers_agreed",
    ),
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
