"""Configuration: bad environment variables stop start-up with a message naming them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_KEY = "a-long-enough-secret-key-for-the-settings-tests-0123456789"


def _check(tmp_path: Path, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    base.update({"UNDERSIGNED_VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run(
        [sys.executable, "-m", "undersigned.cli", "check", *options],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "UNDERSIGNED_SECRET_KEY is required"),
        ({"UNDERSIGNED_SECRET_KEY": "short"}, "UNDERSIGNED_SECRET_KEY must be at least 50 characters long"),
        # 49 characters: what `check --deploy` would still call weak.
        ({"UNDERSIGNED_SECRET_KEY": GOOD_KEY[:49]}, "UNDERSIGNED_SECRET_KEY must be at least 50 characters long"),
        ({"UNDERSIGNED_SECRET_KEY": "ab" * 30}, "with at least 5 different characters"),
        ({"UNDERSIGNED_DEBUG": "maybe"}, "UNDERSIGNED_DEBUG must be a boolean (1/0, true/false, yes/no), not 'maybe'."),
        ({"UNDERSIGNED_BASE_URL": "example.org"}, "UNDERSIGNED_BASE_URL must be a URL starting with http://, https://"),
        ({"UNDERSIGNED_SMTP_URL": "mail.example.org"}, "UNDERSIGNED_SMTP_URL must look like smtp://"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL must point to SQLite (sqlite://) or PostgreSQL"),
        ({"UNDERSIGNED_DRAFT_DAYS": "soon"}, "UNDERSIGNED_DRAFT_DAYS must be a whole number, not 'soon'."),
        ({"UNDERSIGNED_WEB_MAX_REQUESTS": "-1"}, "UNDERSIGNED_WEB_MAX_REQUESTS must be at least 0, not -1."),
        ({"UNDERSIGNED_DB_PREPARED_STATEMENTS": "maybe"}, "UNDERSIGNED_DB_PREPARED_STATEMENTS must be a boolean"),
        (
            {"UNDERSIGNED_SOCIAL_PROVIDERS": "dummy,../x"},
            "UNDERSIGNED_SOCIAL_PROVIDERS has an invalid provider name: '../x'.",
        ),
        ({"UNDERSIGNED_SOCIALACCOUNT_PROVIDERS": "[1]"}, "UNDERSIGNED_SOCIALACCOUNT_PROVIDERS must be a JSON object."),
        ({"UNDERSIGNED_COMMENT_CONFIRM_DAYS": "0"}, "UNDERSIGNED_COMMENT_CONFIRM_DAYS must be at least 1, not 0."),
        ({"UNDERSIGNED_RATE_LIMITS": "endorse=lots"}, "UNDERSIGNED_RATE_LIMITS: endorse: a rate looks like 5/m"),
        ({"UNDERSIGNED_RATE_LIMITS": "petition=5/m"}, "UNDERSIGNED_RATE_LIMITS: unknown scope 'petition'"),
        (
            {"UNDERSIGNED_TRUSTED_PROXIES": "10.0.0.1, nginx.local"},
            "UNDERSIGNED_TRUSTED_PROXIES: 'nginx.local' is not an IP address or network",
        ),
        ({"UNDERSIGNED_TRUSTED_PROXIES": "10.0.0.0/33"}, "UNDERSIGNED_TRUSTED_PROXIES: '10.0.0.0/33' is not"),
        ({"UNDERSIGNED_PUBLIC_CACHE_SECONDS": "-5"}, "UNDERSIGNED_PUBLIC_CACHE_SECONDS must be at least 0, not -5."),
    ],
)
def test_a_bad_value_names_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    env = {"UNDERSIGNED_SECRET_KEY": GOOD_KEY, **env} if "UNDERSIGNED_SECRET_KEY" not in env and env else env
    result = _check(tmp_path, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_good_settings_start(tmp_path: Path) -> None:
    smtp = "smtp://u:p%40ss@mail.example:587?starttls=1"
    result = _check(tmp_path, UNDERSIGNED_SECRET_KEY=GOOD_KEY, UNDERSIGNED_SMTP_URL=smtp)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_shortest_key_accepted_is_one_check_deploy_accepts(tmp_path: Path) -> None:
    """README and start-up ask for what Django's deployment check asks (security.W009)."""
    shortest = "abcde" * 10
    assert len(shortest) == 50
    result = _check(tmp_path, "--deploy", UNDERSIGNED_SECRET_KEY=shortest)
    assert "security.W009" not in result.stdout + result.stderr
    assert "UNDERSIGNED_SECRET_KEY" not in result.stderr


def test_demo_mode_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    first = _check(tmp_path, UNDERSIGNED_DEMO="1")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "var" / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    _check(tmp_path, UNDERSIGNED_DEMO="1")
    assert key_file.read_text() == key
