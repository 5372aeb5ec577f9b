"""Heavy libraries stay out of a worker that serves public pages (bench/worker_memory.py).

tomlkit (campaign files written, about 6 MB) and pygal (the results charts, about 2 MB)
are imported where they are used, not when the URLconf loads. A fresh Python process,
as a web worker is, sets Django up, loads the URLconf, resolves the public campaign,
composer and open letter pages and imports their views; neither library may be in
``sys.modules`` then. fido2 (allauth.mfa's WebAuthn), dkim's dnspython and, on SQLite,
psycopg are fenced by a worker that serves pages through the WSGI application (issue 13);
``undersigned/account_urls.py`` by a comparison with ``allauth.urls``. The same worker
holds none of the dashboard's view modules (``dashboard/urls.py`` names them for
``core/lazy_views.py``) and one set of URL reverse tables for every language
(``core/url_tables.py``, a private internal of Django, fenced below).
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.urls import URLResolver, get_resolver, resolvers, reverse
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils import translation
from django.utils.module_loading import import_string

import undersigned
from tests.conftest import database_url
from undersigned.core import url_tables

SCRIPT = """
import json, sys
import django

django.setup()
from django.urls import get_resolver, resolve

get_resolver().url_patterns
views = [resolve(path).func for path in ("/c/some-campaign/", "/c/some-campaign/write/", "/open-letters/some-letter/")]
before = {name: name in sys.modules for name in ("tomlkit", "pygal")}

from undersigned.campaigns import campaign_files
from undersigned.dashboard import charts

charts.horizontal_bars(["a"], [1], series="s")
campaign_files.dump(campaign_files.parse_any(sys.stdin.read()))
after = {name: name in sys.modules for name in ("tomlkit", "pygal")}
print(json.dumps({"views": [v.__module__ for v in views], "before": before, "after": after}))
"""


def test_public_pages_do_not_import_tomlkit_or_pygal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNDERSIGNED_") and k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="undersigned.settings",
        UNDERSIGNED_SECRET_KEY="lazy-imports-" + "abcdefghij" * 5,
        UNDERSIGNED_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    demo = Path(undersigned.__file__).resolve().parent / "demo" / "riverside-path.toml"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=demo.read_text(encoding="utf-8"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["views"] == [
        "undersigned.public.views",
        "undersigned.public.views",
        "undersigned.public.open_letter_views",
    ]
    # Not imported by the URLconf nor by the public views...
    assert found["before"] == {"tomlkit": False, "pygal": False}
    # ...and imported once a chart is drawn and a campaign file written (the fence can see them).
    assert found["after"] == {"tomlkit": True, "pygal": True}


# What a gunicorn worker does (undersigned/wsgi.py), with the pages a first-time visitor
# opens, in English and in French; then the two-factor page, which imports allauth's
# two-factor views on first use (account_urls.py), so the fence can see fido2 arrive.
WORKER = """
import io, json, sys

from undersigned.wsgi import application

NEVER = ("fido2", "cryptography", "dkim", "dns", "psycopg", "typst", "tomlkit", "pygal")


def get(path, language="en"):
    statuses = []
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "HTTP_ACCEPT_LANGUAGE": language,
    }
    body = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    body.close()
    return int(statuses[0].split()[0])


slug = sys.argv[1]
statuses = [get(path, language) for language in ("en", "fr")
            for path in (f"/c/{slug}/", f"/c/{slug}/write/", "/accounts/login/", "/my-data/")]
loaded = [name for name in NEVER if name in sys.modules]
from django.urls import get_resolver
reverse_tables = sorted(get_resolver()._reverse_dict)
from undersigned.dashboard import urls as dashboard_urls
views = {p.callback.imported_on_first_use.rpartition(".")[0] for p in dashboard_urls.urlpatterns}
dashboard = sorted(views & set(sys.modules))
two_factor = get("/accounts/2fa/")
print(json.dumps({"statuses": statuses, "loaded": loaded, "two_factor": two_factor,
                  "fido2_after": "fido2" in sys.modules, "reverse_tables": reverse_tables,
                  "dashboard": dashboard}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_serving_public_pages_and_sign_in_loads_no_two_factor_crypto_nor_dkim(campaign: Any) -> None:
    """issue 13: a web worker under 80 MB (docs/performance.md, "A web worker under 80 MB").

    fido2 and cryptography (allauth's WebAuthn, about 12 MB), dnspython (dkim, about 3 MB)
    and, on SQLite, psycopg (about 7 MB with its libraries) stay out of a worker until it
    needs them: a sign-in with a second factor, a signed message, a PostgreSQL database.
    """
    # Without a DKIM key (a configured key is checked, with dkim, wherever settings load).
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNDERSIGNED_DKIM_")}
    env["DATABASE_URL"] = database_url()
    result = subprocess.run(
        [sys.executable, "-c", WORKER, campaign.slug], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["statuses"] == [200] * 8
    expected = ["psycopg"] if connection.vendor == "postgresql" else []
    assert found["loaded"] == expected
    # One set of URL reverse tables after pages in English and French (core/url_tables.py).
    assert found["reverse_tables"] == ["en"]
    # None of the dashboard's view modules (dashboard/urls.py, core/lazy_views.py).
    assert found["dashboard"] == []
    # The two-factor page (a redirect to sign in) imported allauth's two-factor views.
    assert found["two_factor"] == 302
    assert found["fido2_after"] is True


def _flat(patterns: list[Any], prefix: str = "") -> list[tuple[str, str | None, Any]]:
    rows: list[tuple[str, str | None, Any]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            rows += _flat(pattern.url_patterns, route)
        else:
            target = getattr(pattern.callback, "imported_on_first_use", None)
            rows.append((route, pattern.name, import_string(target) if target else pattern.callback))
    return rows


def test_the_account_urls_are_allauths_own() -> None:
    """account_urls.py builds what allauth.urls does, every route, name and view, in order;
    only the two-factor base views are imported on first use, and each stand-in carries
    the marks its real view has for middleware (exempt from CSRF, sign-in not required…),
    and the real view has no other."""
    import allauth.urls  # noqa: PLC0415 (imports the two-factor views: only in this test)

    from undersigned import account_urls  # noqa: PLC0415

    ours = _flat(account_urls.urlpatterns)
    theirs = _flat(allauth.urls.urlpatterns)
    assert [(route, name) for route, name, _ in ours] == [(route, name) for route, name, _ in theirs]
    for (route, _name, view), (_route, _name2, real) in zip(ours, theirs, strict=True):
        if isinstance(real, type(view)) and getattr(real, "view_class", None) is not None:
            assert getattr(view, "view_class", None) is real.view_class, route
        else:
            assert view is real, route
    lazy = [p for p in _flat_patterns(account_urls.urlpatterns) if hasattr(p.callback, "imported_on_first_use")]
    assert {p.name for p in lazy} >= {"mfa_index", "mfa_authenticate", "mfa_reauthenticate"}
    marks = ("csrf_exempt", "login_required", "login_url", "redirect_field_name", "xframe_options_exempt")
    for pattern in lazy:
        real = import_string(pattern.callback.imported_on_first_use)
        for mark in marks:
            assert getattr(pattern.callback, mark, None) == getattr(real, mark, None), (pattern.name, mark)
        assert not set(vars(real)) - {*marks, "view_class", "view_initkwargs", "__wrapped__"}, pattern.name


def _flat_patterns(patterns: list[Any]) -> list[Any]:
    found: list[Any] = []
    for pattern in patterns:
        found += _flat_patterns(pattern.url_patterns) if isinstance(pattern, URLResolver) else [pattern]
    return found


def _resolvers(resolver: URLResolver) -> list[URLResolver]:
    found = [resolver]
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            found += _resolvers(pattern)
    return found


def test_no_route_is_translated() -> None:
    """core/url_tables.py shares one set of reverse tables across languages, which is right
    only while no route depends on the language: no i18n_patterns, no lazy route."""
    root = get_resolver()
    for resolver in _resolvers(root):
        patterns = [resolver.pattern, *(p.pattern for p in resolver.url_patterns)]
        for pattern in patterns:
            assert not isinstance(pattern, LocalePrefixPattern), resolver
            if isinstance(pattern, RoutePattern):
                assert type(vars(pattern)["_route"]) is str, (resolver, pattern)
            else:
                assert isinstance(pattern, RegexPattern), (resolver, pattern)
                assert type(vars(pattern)["_regex"]) is str, (resolver, pattern)


def test_every_language_reverses_through_one_set_of_tables() -> None:
    """The private internal core/url_tables.py relies on (bench/web_memory.py: about 0.6 MB
    a language): Django's resolvers key their reverse tables by what the name
    ``get_language`` in ``django.urls.resolvers`` answers. If Django reads the language
    some other way, the tables below grow one key per language and this fails."""
    assert vars(resolvers)["get_language"] is url_tables._default_language
    urls = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            assert translation.get_language() == code
            urls[code] = (reverse("public:home"), reverse("account_login"), reverse("openletters:index"))
    assert len(set(urls.values())) == 1
    for resolver in _resolvers(get_resolver()):
        internals = vars(resolver)
        if internals["_populated"]:
            for tables in ("_reverse_dict", "_namespace_dict", "_app_dict"):
                assert set(internals[tables]) == {settings.LANGUAGE_CODE}, (resolver, tables)


def test_every_view_imported_on_first_use_is_the_real_views_stand_in() -> None:
    """core/lazy_views.py: each stand-in in the URLconf (the dashboard's views, allauth's
    two-factor base views) names a view that exists, has its module, and carries
    exactly the marks the real view has for middleware and tests (``csrf_exempt``,
    ``personal_page``…)."""
    patterns = [p for p in _flat_patterns(get_resolver().url_patterns) if hasattr(p.callback, "imported_on_first_use")]
    dashboard = [p for p in patterns if p.callback.imported_on_first_use.startswith("undersigned.dashboard.")]
    assert len(dashboard) >= 70
    ignored = {"__wrapped__", "view_class", "view_initkwargs", "imported_on_first_use"}
    for pattern in patterns:
        stand_in = pattern.callback
        real = import_string(stand_in.imported_on_first_use)
        assert stand_in.__module__ == real.__module__, pattern.name
        marks = {k: v for k, v in vars(stand_in).items() if k not in ignored}
        assert marks == {k: v for k, v in vars(real).items() if k not in ignored}, pattern.name
