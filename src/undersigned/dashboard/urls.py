from django.urls import path

from . import moderation, views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("mail/", views.mailbox, name="mailbox"),
    path("moderation/", moderation.queue, name="moderation"),
    path("moderation/comments/<int:comment_id>/", moderation.act, name="moderation_act"),
    path("campaigns/<slug:slug>/print/", views.print_page, name="print"),
    path("print-jobs/<int:job_id>/", views.print_job, name="print_job"),
    path("print-jobs/<int:job_id>/download/", views.print_job_download, name="print_job_download"),
]
