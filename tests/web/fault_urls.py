"""The project's URLs and one more view, whose session is saved after it returns (for
tests/web/test_database_faults.py: a connection lost outside the view)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def remember(request: HttpRequest) -> HttpResponse:
    request.session["remembered"] = request.POST.get("note", "") or "seen"
    return HttpResponse("remembered")


urlpatterns = [
    path("test-remember/", remember, name="test_remember"),
    path("", include("undersigned.urls")),
]
