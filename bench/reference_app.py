"""A bare Django reference for bench/letters.py: one small form page and one insert.

It runs in its own gunicorn, beside the product's and with the same settings, workers
and database, but with these URLs, so the product never ships benchmark views. The GET
renders a small template with a CSRF token; the POST validates a three-field Django form
and inserts one row with one SQL statement, then redirects. That is about the least a
Django form submission can cost here, which is what the product is measured against.
"""

from __future__ import annotations

from functools import cache

from django import forms
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import engines
from django.template.backends.django import Template
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

TABLE = "bench_reference_note"
_INSERT = "INSERT INTO bench_reference_note (name, email, message, created_at) VALUES (%s, %s, %s, %s)"
_CREATE = {
    "postgresql": "CREATE TABLE IF NOT EXISTS bench_reference_note (id bigserial PRIMARY KEY, "
    "name varchar(120) NOT NULL, email varchar(254) NOT NULL, message text NOT NULL, created_at timestamptz NOT NULL)",
    "sqlite": "CREATE TABLE IF NOT EXISTS bench_reference_note (id integer PRIMARY KEY AUTOINCREMENT, "
    "name varchar(120) NOT NULL, email varchar(254) NOT NULL, message text NOT NULL, created_at datetime NOT NULL)",
}

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Write a note</title></head>
<body>
<main>
<h1>Write a note</h1>
<form method="post" action="{% url 'form' %}">
{% csrf_token %}
{{ form.as_div }}
<button type="submit">Send</button>
</form>
</main>
</body>
</html>
"""


def create_table(conn: BaseDatabaseWrapper) -> None:
    """The reference's one table, created with plain DDL (no app, no migration)."""
    with conn.cursor() as cursor:
        cursor.execute(_CREATE[conn.vendor])


class NoteForm(forms.Form):
    name = forms.CharField(max_length=120)
    email = forms.EmailField(max_length=254)
    message = forms.CharField(max_length=20_000, widget=forms.Textarea)


@cache
def _template() -> Template:
    template = engines["django"].from_string(_PAGE)
    assert isinstance(template, Template)
    return template


@require_http_methods(["GET", "POST"])
def note_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            with connection.cursor() as cursor:
                cursor.execute(_INSERT, [data["name"], data["email"], data["message"], timezone.now()])
            return HttpResponseRedirect(reverse("done"))
    else:
        form = NoteForm()
    return HttpResponse(_template().render({"form": form}, request))


@require_GET
def done(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Thank you.", content_type="text/plain")


urlpatterns = [
    path("form/", note_form, name="form"),
    path("form/done/", done, name="done"),
]
