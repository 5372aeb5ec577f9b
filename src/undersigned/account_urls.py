"""allauth's URLs under ``accounts/``: the patterns of ``allauth.urls``, with the views of
``allauth.mfa.base`` imported by the first request that reaches one.

``allauth.mfa.base.views`` imports the WebAuthn flows, and with them fido2 and
cryptography, whatever ``MFA_SUPPORTED_TYPES`` says (we offer TOTP and recovery codes):
about 12 MB in every process that loads it (bench/web_memory.py). Every web worker loads
the whole URLconf on its first request, since Django resolves and reverses from it, so
those four views are named here by their dotted path instead, and a worker imports them
when someone signs in with a second factor or opens the two-factor page. Everything else
is what ``allauth.urls`` builds, in its order (that module cannot be imported without
importing the views). ``tests/test_lazy_imports.py`` compares these patterns with
allauth's own, route by route, and checks that a worker serving the public pages and the
sign-in page never imports fido2.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from allauth import app_settings
from allauth.mfa import app_settings as mfa_settings
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic.base import RedirectView

from undersigned.core.lazy_views import on_first_use

MFA_BASE_VIEWS = "allauth.mfa.base.views"


def _mfa_patterns() -> list[URLPattern | URLResolver]:
    """``allauth.mfa.urls``, with ``allauth.mfa.base.urls``' views named, not imported."""
    # The marks Django's login_required and login_not_required put on the real views
    # (LoginRequiredMiddleware reads them); the fence compares them with allauth's.
    signed_in: dict[str, Any] = {"login_url": None, "redirect_field_name": "next"}
    base = [
        path("", on_first_use(f"{MFA_BASE_VIEWS}.index", **signed_in), name="mfa_index"),
        path(
            "authenticate/",
            on_first_use(f"{MFA_BASE_VIEWS}.authenticate", login_required=False),
            name="mfa_authenticate",
        ),
        path(
            "reauthenticate/",
            on_first_use(f"{MFA_BASE_VIEWS}.reauthenticate", **signed_in),
            name="mfa_reauthenticate",
        ),
    ]
    if mfa_settings._TRUST_STAGE_ENABLED:  # the condition allauth.mfa.base.urls uses
        trust = on_first_use(f"{MFA_BASE_VIEWS}.trust", login_required=False)
        base.append(path("trust/", trust, name="mfa_trust"))
    patterns: list[URLPattern | URLResolver] = [path("", include(base))]
    if "totp" in mfa_settings.SUPPORTED_TYPES:
        patterns.append(path("totp/", include("allauth.mfa.totp.urls")))
    if "recovery_codes" in mfa_settings.SUPPORTED_TYPES:
        patterns.append(path("recovery-codes/", include("allauth.mfa.recovery_codes.urls")))
    if "webauthn" in mfa_settings.SUPPORTED_TYPES:
        patterns.append(path("webauthn/", include("allauth.mfa.webauthn.urls")))
    return patterns


def _provider_patterns() -> list[URLPattern | URLResolver]:
    """``allauth.urls.build_provider_urlpatterns``: each social provider's URLs, OpenID Connect last."""
    from allauth.socialaccount import providers  # noqa: PLC0415 (only with social accounts on)

    classes = providers.registry.get_class_list()
    classes = [c for c in classes if c.id != "openid_connect"] + [c for c in classes if c.id == "openid_connect"]
    patterns: list[URLPattern | URLResolver] = []
    for provider_class in classes:
        patterns += getattr(import_module(f"{provider_class.get_package()}.urls"), "urlpatterns", None) or []
    return patterns


def _legacy_redirects() -> list[URLPattern | URLResolver]:
    """The old social account URLs, which ``allauth.urls`` still redirects."""
    return [
        path(old, RedirectView.as_view(pattern_name=name, permanent=True))
        for old, name in (
            ("social/login/cancelled/", "socialaccount_login_cancelled"),
            ("social/login/error/", "socialaccount_login_error"),
            ("social/signup/", "socialaccount_signup"),
            ("social/connections/", "socialaccount_connections"),
        )
    ]


urlpatterns: list[URLPattern | URLResolver] = []
if not app_settings.HEADLESS_ONLY:
    urlpatterns += [path("", include("allauth.account.urls"))]
    if app_settings.MFA_ENABLED:
        urlpatterns += [path("2fa/", include(_mfa_patterns()))]
if app_settings.SOCIALACCOUNT_ENABLED and not app_settings.HEADLESS_ONLY:
    urlpatterns += [path("3rdparty/", include("allauth.socialaccount.urls"))]
    urlpatterns += _legacy_redirects()
if app_settings.SOCIALACCOUNT_ENABLED:
    urlpatterns += _provider_patterns()
if app_settings.USERSESSIONS_ENABLED and not app_settings.HEADLESS_ONLY:
    urlpatterns += [path("sessions/", include("allauth.usersessions.urls"))]
