"""The project's URLs and two more views: one whose session is saved after it returns (for
tests/web/test_database_faults.py: a connection lost outside the view), one that fails
(tests/web/test_error_pages.py: the 500 page)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def remember(request: HttpRequest) -> HttpResponse:
    request.session["remembered"] = request.POST.get("note", "") or "seen"
    return HttpResponse("remembered")


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a fault of ours")  # for tests/web/test_error_pages.py


urlpatterns = [
    path("test-remember/", remember, name="test_remember"),
    path("test-fail/", fail, name="test_fail"),
    path("", include("undersigned.urls")),
]
