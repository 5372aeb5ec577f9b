from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import path

from . import abuse, languages


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever a page says (the admin's pages say nothing):
    send them to the SVG icon instead of a 404 in every page's log."""
    return HttpResponsePermanentRedirect(static("undersigned/favicon.svg"))


app_name = "core"
urlpatterns = [
    path("altcha/challenge/", abuse.pow_challenge, name="pow_challenge"),
    path("favicon.ico", favicon, name="favicon"),
    path("language/", languages.set_language, name="set_language"),
]
