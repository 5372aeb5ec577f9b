"""A small page with a GuardedForm, so the abuse layer can be tested on its own.

The product's forms (composer, endorsements, comments) have tests of their own; this
one exercises the layer's every branch through HTTP and in Chromium.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

from undersigned.core import abuse

ACCEPTED: list[str] = []

_PAGE = engines["django"].from_string(
    """{% extends "base.html" %}{% block content %}
<h1>Guarded</h1>
{% include "public/_errors.html" %}
<form method="post" novalidate>{% csrf_token %}
{% include "core/_guard_fields.html" %}
{% include "public/_field.html" with field=form.name %}
<button type="submit">Send</button>
</form>{% endblock %}"""
)


class NameForm(abuse.GuardedForm):
    name = forms.CharField(label="Your name", max_length=50)


def guarded(request: HttpRequest) -> HttpResponse:
    pow_required = request.GET.get("pow") == "1"
    if request.method == "POST":
        form = NameForm(request.POST, pow_required=pow_required)
        wait = abuse.rate_limit(request, "endorse", settings.RATE_LIMITS["endorse"])
        if wait:
            form.add_error(None, abuse.rate_limit_message(wait))
            response = HttpResponse(_PAGE.render({"form": form}, request), status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            ACCEPTED.append(form.cleaned_data["name"])
            return HttpResponse(f"Accepted {len(ACCEPTED)}")
    else:
        form = NameForm(pow_required=pow_required)
    return HttpResponse(_PAGE.render({"form": form}, request))


def busy(request: HttpRequest) -> HttpResponse:
    wait = abuse.rate_limit(request, "report", "2/m")
    if wait:
        return abuse.too_many_requests(request, wait)
    return HttpResponse("ok")


urlpatterns = [
    path("guarded/", guarded),
    path("busy/", busy),
    path("", include("undersigned.urls")),
]
