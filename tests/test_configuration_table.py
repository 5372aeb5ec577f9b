"""README's configuration table and settings.py stay in step.

The table is parsed here, so a row added to it (or a variable dropped from settings.py)
fails these tests: every variable in the table is read by the settings, and every one
whose value has a form stops start-up with a message that names it when it is wrong.
The settings module is run in one child process once per case (``runpy``), which is
what start-up does first; tests/test_settings.py checks what `undersigned` prints then.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
GOOD_KEY = "a-long-enough-secret-key-for-the-settings-tests-of-2026"

# A wrong value of every variable with a form, and the start of the message it gives.
BAD_VALUES = {
    "DATABASE_URL": ("mysql://root@localhost/x", "DATABASE_URL must point to SQLite (sqlite://) or PostgreSQL"),
    "UNDERSIGNED_SECRET_KEY": ("short", "UNDERSIGNED_SECRET_KEY must be at least 50 characters long"),
    "UNDERSIGNED_BASE_URL": ("letters.example.org", "UNDERSIGNED_BASE_URL must be a URL starting with http://"),
    "UNDERSIGNED_SMTP_URL": ("mail.example.org:587", "UNDERSIGNED_SMTP_URL must look like smtp://"),
    "UNDERSIGNED_MAIL_DOMAIN": ("letters@example.org", "UNDERSIGNED_MAIL_DOMAIN must be a domain name"),
    "UNDERSIGNED_INBOUND_DOMAIN": ("in bound.example.org", "UNDERSIGNED_INBOUND_DOMAIN must be a domain name"),
    "UNDERSIGNED_SEND_STALE_SECONDS": ("0", "UNDERSIGNED_SEND_STALE_SECONDS must be at least 1, not 0."),
    "UNDERSIGNED_PRINT_RETENTION_DAYS": ("two weeks", "UNDERSIGNED_PRINT_RETENTION_DAYS must be a whole number"),
    "UNDERSIGNED_LETTER_RETENTION_DAYS": ("0", "UNDERSIGNED_LETTER_RETENTION_DAYS must be at least 1, not 0."),
    "UNDERSIGNED_MY_DATA_LINK_MINUTES": ("an hour", "UNDERSIGNED_MY_DATA_LINK_MINUTES must be a whole number"),
    "UNDERSIGNED_HAND_IN_ATTACH_MAX_BYTES": ("10 MB", "UNDERSIGNED_HAND_IN_ATTACH_MAX_BYTES must be a whole number"),
    "UNDERSIGNED_REPLY_ASK_DAYS": ("0", "UNDERSIGNED_REPLY_ASK_DAYS must be at least 1, not 0."),
    "UNDERSIGNED_REPLY_FILE_MAX_BYTES": ("0", "UNDERSIGNED_REPLY_FILE_MAX_BYTES must be at least 1, not 0."),
    "UNDERSIGNED_INBOUND_TLS_CERT": ("cert.pem", "UNDERSIGNED_INBOUND_TLS_KEY must be set too"),
    "UNDERSIGNED_INBOUND_TLS_KEY": ("key.pem", "UNDERSIGNED_INBOUND_TLS_CERT must be set too"),
    "UNDERSIGNED_DB_PREPARED_STATEMENTS": ("maybe", "UNDERSIGNED_DB_PREPARED_STATEMENTS must be a boolean"),
    "UNDERSIGNED_DEBUG": ("verbose", "UNDERSIGNED_DEBUG must be a boolean"),
    "UNDERSIGNED_CACHE_URL": ("memcached://127.0.0.1", "UNDERSIGNED_CACHE_URL must be redis://…, db:// or locmem://."),
    "UNDERSIGNED_RATE_LIMITS": ("endorse=lots", "UNDERSIGNED_RATE_LIMITS: endorse: a rate looks like"),
    "UNDERSIGNED_FORM_MIN_FILL_SECONDS": ("-3", "UNDERSIGNED_FORM_MIN_FILL_SECONDS must be at least 0, not -3."),
    "UNDERSIGNED_POW_COST": ("0", "UNDERSIGNED_POW_COST must be at least 1, not 0."),
    "UNDERSIGNED_DRAFT_DAYS": ("soon", "UNDERSIGNED_DRAFT_DAYS must be a whole number, not 'soon'."),
    "UNDERSIGNED_ENDORSE_CONFIRM_HOURS": ("0", "UNDERSIGNED_ENDORSE_CONFIRM_HOURS must be at least 1, not 0."),
    "UNDERSIGNED_TIME_ZONE": ("Europe/Atlantis", "UNDERSIGNED_TIME_ZONE must be a time zone name"),
    "UNDERSIGNED_BIND": ("8000", "UNDERSIGNED_BIND must be host:port"),
    "UNDERSIGNED_WEB_WORKERS": ("many", "UNDERSIGNED_WEB_WORKERS must be a whole number, not 'many'."),
    "UNDERSIGNED_WEB_MAX_REQUESTS": ("-1", "UNDERSIGNED_WEB_MAX_REQUESTS must be at least 0, not -1."),
    "UNDERSIGNED_SOCIAL_PROVIDERS": ("openid_conect", "UNDERSIGNED_SOCIAL_PROVIDERS: django-allauth has no provider"),
    "UNDERSIGNED_SOCIALACCOUNT_PROVIDERS": ("{oops", "UNDERSIGNED_SOCIALACCOUNT_PROVIDERS must be a JSON object."),
    "UNDERSIGNED_COMMENT_CONFIRM_DAYS": ("a week", "UNDERSIGNED_COMMENT_CONFIRM_DAYS must be a whole number"),
    "UNDERSIGNED_LOG_LEVEL": ("loud", "UNDERSIGNED_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    "UNDERSIGNED_TRUSTED_PROXIES": ("the-proxy", "UNDERSIGNED_TRUSTED_PROXIES:"),
    "UNDERSIGNED_PUBLIC_CACHE_SECONDS": ("-5", "UNDERSIGNED_PUBLIC_CACHE_SECONDS must be at least 0, not -5."),
    "UNDERSIGNED_DKIM_KEY_FILE": ("/nonexistent/dkim.pem", "UNDERSIGNED_DKIM_KEY_FILE cannot be read"),
    "UNDERSIGNED_DKIM_SELECTOR": ("not a label", "UNDERSIGNED_DKIM_SELECTOR must be a DNS label"),
    "UNDERSIGNED_DKIM_DOMAIN": ("not a domain", "UNDERSIGNED_DKIM_DOMAIN must be a domain name"),
}
# The DKIM variables work together: their bad values are tried beside good ones of the others.
WITH = {
    "UNDERSIGNED_DKIM_KEY_FILE": {"UNDERSIGNED_DKIM_SELECTOR": "mail2026", "UNDERSIGNED_DKIM_DOMAIN": "example.org"},
    "UNDERSIGNED_DKIM_SELECTOR": {"UNDERSIGNED_DKIM_KEY_FILE": "/nonexistent/dkim.pem"},
    "UNDERSIGNED_DKIM_DOMAIN": {
        "UNDERSIGNED_DKIM_KEY_FILE": "/nonexistent/dkim.pem",
        "UNDERSIGNED_DKIM_SELECTOR": "mail2026",
    },
}
# Variables whose value has no form to check, and why.
ANY_VALUE = {
    "UNDERSIGNED_VAR_DIR": "a directory, created when missing",
    "UNDERSIGNED_IP_SALT": "any text",
    "UNDERSIGNED_STATIC_ROOT": "a directory, created by collectstatic",
}

PROBE = """
import importlib.util, json, os, runpy, sys
from django.core.exceptions import ImproperlyConfigured

path = importlib.util.find_spec("undersigned.settings").origin
base = dict(os.environ)
read = set()


class Recording(dict):
    def get(self, key, default=None):
        read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        read.add(key)
        return super().__contains__(key)


results = []
for case in json.loads(sys.stdin.read()):
    os.environ = Recording({**base, **case})
    try:
        runpy.run_path(path)
        results.append(None)
    except ImproperlyConfigured as error:
        results.append(str(error))
print(json.dumps({"read": sorted(read), "results": results}))
"""


def table_variables() -> list[str]:
    """The variables in the first column of README's table under "## Configuration"."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])]


def run_settings(tmp_path: Path, cases: list[dict[str, str]]) -> dict[str, list[str | None] | list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(UNDERSIGNED_VAR_DIR=str(tmp_path / "var"), UNDERSIGNED_SECRET_KEY=GOOD_KEY)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(cases),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output: dict[str, list[str | None] | list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return output


def test_the_table_is_found_and_every_variable_in_it_is_accounted_for() -> None:
    names = table_variables()
    assert len(names) == len(set(names)) == 39
    assert set(names) == set(BAD_VALUES) | set(ANY_VALUE)
    assert not set(BAD_VALUES) & set(ANY_VALUE)


def test_settings_read_every_variable_in_the_table_and_start_with_none_set(tmp_path: Path) -> None:
    output = run_settings(tmp_path, [{}])
    assert output["results"] == [None]
    assert sorted(set(table_variables()) - set(output["read"])) == []


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """What the settings say to each bad value, all cases in one child process."""
    names = sorted(BAD_VALUES)
    cases = [{**WITH.get(name, {}), name: BAD_VALUES[name][0]} for name in names]
    results = run_settings(tmp_path_factory.mktemp("settings"), cases)
    return dict(zip(names, results["results"], strict=True))


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_a_bad_value_stops_start_up_naming_the_variable(errors: dict[str, str | None], name: str) -> None:
    error = errors[name]
    assert error is not None, f"{name}={BAD_VALUES[name][0]!r} started"
    assert error.startswith(BAD_VALUES[name][1]), error
