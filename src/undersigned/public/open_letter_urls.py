from django.urls import path

from . import open_letter_views as views

app_name = "openletters"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.letter_page, name="letter"),
    path("<slug:slug>/versions/", views.versions_page, name="versions"),
    path("<slug:slug>/endorse/", views.endorse, name="endorse"),
    path("<slug:slug>/endorse/sent/", views.sent, name="sent"),
    path("<slug:slug>/confirm/", views.confirm_code, name="confirm_code"),
    path("<slug:slug>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("<slug:slug>/withdraw/<str:token>/", views.withdraw, name="withdraw"),
]
