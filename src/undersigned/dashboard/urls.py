from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("mail/", views.mailbox, name="mailbox"),
    path("campaigns/<slug:slug>/print/", views.print_page, name="print"),
    path("print-jobs/<int:job_id>/", views.print_job, name="print_job"),
    path("print-jobs/<int:job_id>/download/", views.print_job_download, name="print_job_download"),
    path("print-jobs/<int:job_id>/posted/", views.print_job_posted, name="print_job_posted"),
]
