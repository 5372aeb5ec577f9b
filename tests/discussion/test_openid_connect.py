"""Signing in to comment with OpenID Connect, against a real provider on 127.0.0.1.

README documents ``UNDERSIGNED_SOCIAL_PROVIDERS=openid_connect`` with the provider's
server URL and client in ``UNDERSIGNED_SOCIALACCOUNT_PROVIDERS``. Here the provider is
allauth's ``idp.oidc`` app running as its own server (``tests/oidc_provider``); the
person's browser is a ``requests`` session at the provider and the test client here, and
the platform talks to the provider itself (discovery, token, keys, user info) over real
HTTP. Nothing leaves the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.test import Client

from tests.discussion.conftest import form_fields, page_url
from undersigned.discussion.models import Comment, CommentStatus
from undersigned.discussion.services import discussion_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://testserver/accounts/oidc/local-idp/login/callback/"
CLIENT_ID = "undersigned-test"
CLIENT_SECRET = "a-test-client-secret-" + "s" * 20
EMAIL, PASSWORD = "noor.haddad@example.org", "a long test password 7"

SETUP = f"""
import django
django.setup()
from allauth.account.models import EmailAddress
from allauth.idp.oidc.models import Client
from django.contrib.auth import get_user_model

user = get_user_model().objects.create_user(
    username="noor", email={EMAIL!r}, password={PASSWORD!r}, first_name="Noor", last_name="Haddad"
)
EmailAddress.objects.create(user=user, email={EMAIL!r}, verified=True, primary=True)
client = Client(id={CLIENT_ID!r}, name="Undersigned", skip_consent=True)
client.set_secret({CLIENT_SECRET!r})
client.set_scopes(["openid", "profile", "email"])
client.set_redirect_uris([{CALLBACK!r}])
client.save()
"""


@dataclass(frozen=True)
class Provider:
    url: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider's own database, signing key, user and client, then its server."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.oidc_provider.settings",
        OIDC_PROVIDER_DB=str(tmp_path_factory.mktemp("oidc") / "provider.sqlite3"),
        OIDC_PROVIDER_KEY=pem.decode(),
        PYTHONPATH=str(ROOT),
    )
    for command in (["-m", "django", "migrate", "-v0"], ["-c", SETUP]):
        subprocess.run([sys.executable, *command], env=env, cwd=ROOT, check=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # until it answers (start-up takes about a second)
            try:
                if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the test OpenID Connect provider did not start")
        yield Provider(url=url)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def openid_connect(settings: Any, provider: Provider) -> None:
    # What UNDERSIGNED_SOCIALACCOUNT_PROVIDERS holds, as JSON, for a real provider.
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "local-idp",
                    "name": "Local identity provider",
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "settings": {"server_url": provider.url},
                }
            ]
        }
    }


def _sign_in_at_the_provider(provider: Provider) -> requests.Session:
    """The person signs in at their provider, as they would in their browser."""
    browser = requests.Session()
    login = f"{provider.url}/accounts/login/"
    browser.get(login, timeout=10)
    answer = browser.post(
        login,
        {"login": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": login},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:2000]
    return browser


def test_signing_in_with_openid_connect_makes_an_account_that_comments(
    client: Client, campaign: Any, provider: Provider, openid_connect: None
) -> None:
    discussion = discussion_for(campaign)
    browser = _sign_in_at_the_provider(provider)

    start = client.post(f"/accounts/oidc/local-idp/login/?next={page_url(discussion)}")
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == provider.url
    assert parse_qs(authorize.query)["redirect_uri"] == [CALLBACK]

    back = browser.get(start["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:2000]
    assert back.headers["Location"].startswith(f"{CALLBACK}?")
    done = client.get(back.headers["Location"].removeprefix("http://testserver"))
    assert done.status_code == 302, done.content.decode()[:2000]
    assert done["Location"] == page_url(discussion)

    user = get_user_model().objects.get(email=EMAIL)
    # The account is the provider's user ("sub" 1), with the claims the provider signed.
    (account,) = SocialAccount.objects.filter(user=user)
    assert (account.provider, account.uid) == ("local-idp", "1")
    assert account.extra_data["id_token"]["iss"] == provider.url
    assert account.extra_data["userinfo"]["email_verified"] is True
    page = client.get(page_url(discussion)).content.decode()
    assert f"You comment as <strong>{EMAIL}</strong>" in page
    fields = form_fields(page)
    assert fields["name"] == "Noor Haddad"
    fields["body"] = "Signed in with my own provider."
    client.post(page_url(discussion), fields)
    comment = Comment.objects.get()
    # The provider vouched for the address, so no emailed confirmation is needed.
    assert (comment.status, comment.user, comment.email) == (CommentStatus.PUBLISHED, user, EMAIL)
