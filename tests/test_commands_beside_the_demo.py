"""A new user's second terminal: `undersigned import`/`export` while `undersigned demo` runs.

Nothing is set in the environment, as for someone who just followed the README: the
commands must find the demo's key and database in ./var/ and print the address the
demo serves at (here not the default port).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.test_serve_process import free_port, wait_for

CAMPAIGN = """\
[campaign]
slug = "a-second-terminal"
title = "Imported beside the demo"
status = "live"

[[recipients]]
name = "Councillor Rowan Ashby"
email = "planning.chair@wendmouth-council.example"

[letter]
subject = "Please keep the riverside path open"
body = "Dear {{ recipient.name }},"
"""


def test_import_and_export_beside_a_running_demo_use_its_data_and_address(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # A new user's shell: none of our variables, the demo's ./var/ beside where they run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env["HOME"] = str(home)
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "undersigned.cli", "demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def undersigned(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "undersigned.cli", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
        )  # fmt: skip

    try:
        wait_for(f"http://127.0.0.1:{port}/health/live", demo, timeout=120)
        (tmp_path / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")

        imported = undersigned("import", "campaign.toml", "--organisation", "demo")
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout.splitlines() == [
            'Created campaign "Imported beside the demo" (a-second-terminal, live, 1 recipient) '
            "for Open Footpaths Alliance.",
            f"Public page: http://127.0.0.1:{port}/c/a-second-terminal/",
        ]
        # The demo's own server shows what the command imported: the same database.
        wait_for(f"http://127.0.0.1:{port}/c/a-second-terminal/", demo)

        exported = undersigned("export", "walkers-for-resolution-7")
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout.startswith('kind = "open_letter"\n')
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
    # The key stayed the demo's: the commands did not make another one.
    assert sorted(p.name for p in (tmp_path / "var").glob("secret_key*")) == ["secret_key"]


def test_without_the_demo_a_command_still_asks_for_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "undersigned.cli", "export", "anything"],
        env=env, cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "UNDERSIGNED_SECRET_KEY is required" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()
