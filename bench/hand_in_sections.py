"""Every section's hand-in packs at once: time and peak memory of one batch.

    uv run python bench/hand_in_sections.py [--members 92] [--endorsements 0,100000]

For each number of endorsements, in a fresh SQLite database in a temporary folder: an
open letter addressed to a group of ``--members`` members, one per made-up country code,
and that many confirmed, named endorsements spread evenly over those countries
(bulk-inserted, the kept counters set to match). Then the batch runs in this process as
a worker runs it (``bulk_print.build_print_job`` on a "sections" job: every member's PDF
and CSV, then one ZIP copied through a fixed buffer). Prints seconds, members per
second, endorsers per second, the ZIP's size and the process's peak memory (VmHWM),
which should not grow with the number of endorsements beyond the first typst compiles.
Each level runs in its own process so that one level's peak does not hide the next's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH = 5000


def _peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _level(members: int, endorsements: int) -> dict[str, float]:
    import django

    django.setup()
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    from undersigned.campaigns.models import Recipient, RecipientGroup, RecipientGroupMember
    from undersigned.delivery import bulk_print
    from undersigned.openletters.models import (
        Endorsement,
        EndorsementCountry,
        OpenLetter,
        OpenLetterStatus,
    )
    from undersigned.openletters.services import sections, versions
    from undersigned.organisations.models import Organisation

    call_command("migrate", verbosity=0)
    organisation = Organisation.objects.create(name="Friends of the Wend", slug="friends-of-the-wend")
    group = RecipientGroup.objects.create(organisation=organisation, name="National sections")
    codes = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(members)]
    for code in codes:
        recipient = Recipient.objects.create(organisation=organisation, name=f"Section {code}", country=code)
        RecipientGroupMember.objects.create(group=group, recipient=recipient)
    letter = OpenLetter.objects.create(
        organisation=organisation, slug="bench", title="Walkers for Resolution 7",
        text="Dear members,\n\nWe ask you to vote for Resolution 7.", status=OpenLetterStatus.PUBLISHED,
        recipient_group=group,
    )  # fmt: skip
    versions.record_version(letter=letter)
    letter.refresh_from_db()
    version = letter.current_version
    now = timezone.now()
    for start in range(0, endorsements, BATCH):
        Endorsement.objects.bulk_create(
            Endorsement(
                letter=letter, name=f"Endorser {n}", role="Member", country=codes[n % members],
                email=f"e{n}@example.org", email_normalised=f"e{n}@example.org", status="confirmed",
                is_listed=True, version=version, text_hash=version.text_hash if version else "",
                withdraw_secret=f"{n:032d}", confirmed_at=now,
            )
            for n in range(start, min(start + BATCH, endorsements))
        )  # fmt: skip
    per_country = {code: endorsements // members + (i < endorsements % members) for i, code in enumerate(codes)}
    EndorsementCountry.objects.bulk_create(
        EndorsementCountry(letter=letter, country=code, count=count, listed=count)
        for code, count in per_country.items()
    )
    OpenLetter.objects.filter(pk=letter.pk).update(verified_count=endorsements)
    job = sections.start_batch(letter=letter, actor=None).job
    before = _peak_mb()
    started = time.perf_counter()
    status = bulk_print.build_print_job(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    if status != "done":
        raise SystemExit(f"the batch ended {status}: {job.error}")
    return {
        "seconds": seconds,
        "members_per_s": members / seconds,
        "endorsers_per_s": endorsements / seconds,
        "zip_mb": default_storage.size(job.file) / 1e6,
        "peak_before_mb": before,
        "peak_mb": _peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=92)
    parser.add_argument("--endorsements", default="0,100000")
    parser.add_argument("--level", type=int, help=argparse.SUPPRESS)  # one level, in a child process
    args = parser.parse_args()
    if args.level is not None:
        print(json.dumps(_level(args.members, args.level)))
        return
    print(f"{'endorsements':>12} {'seconds':>8} {'members/s':>9} {'endorsers/s':>11} {'ZIP':>8} {'peak':>8}")
    for level in (int(x) for x in args.endorsements.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith("UNDERSIGNED_") and k != "DATABASE_URL"}
            env.update(
                DJANGO_SETTINGS_MODULE="undersigned.settings",
                UNDERSIGNED_VAR_DIR=folder,
                UNDERSIGNED_SECRET_KEY="bench-" + "abcdefghij" * 6,
                DATABASE_URL=f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
                UNDERSIGNED_LOG_LEVEL="WARNING",
            )
            command = [sys.executable, __file__, "--members", str(args.members), "--level", str(level)]
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if result.returncode:
                raise SystemExit(result.stderr)
            r = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"{level:>12,} {r['seconds']:>8.1f} {r['members_per_s']:>9.1f} {r['endorsers_per_s']:>11,.0f} "
                f"{r['zip_mb']:>6.1f}MB {r['peak_mb']:>6.0f}MB"
            )


if __name__ == "__main__":
    main()
