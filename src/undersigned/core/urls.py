from django.urls import path

from . import abuse

app_name = "core"
urlpatterns = [
    path("altcha/challenge/", abuse.pow_challenge, name="pow_challenge"),
]
