"""Static files with hashed names, compressed, built by `undersigned serve` and `demo` themselves.

whitenoise serves a file whose name carries a hash of its content with
``Cache-Control: max-age=315360000, public, immutable`` and sends the gzip or brotli
copy made beforehand to browsers that accept it. That needs ``collectstatic``; to keep
the quick start free of that step, ``ensure_built`` runs it into
``<var dir>/static`` (or ``UNDERSIGNED_STATIC_ROOT``) when the manifest is missing or
the package's static files changed since (an upgrade), under a file lock so servers
starting together build once. ``settings`` uses the manifest when it finds one; without
it (the test run, ``manage.py runserver``) files are served from the package unhashed,
as before.

The figures for a campaign page are in docs/performance.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.management.commands import collectstatic
from django.core.management import call_command
from django.utils.module_loading import import_string

MANIFEST = "staticfiles.json"  # ManifestStaticFilesStorage's name for it
_SOURCES = ".sources"  # what the build was made from


def _sources_fingerprint() -> str:
    """A hash of every static source file's path, size and modification time."""
    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = Path(storage.path(path)).stat()
            entries.append((path, stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps(sorted(entries)).encode()).hexdigest()


def is_current(root: Path, fingerprint: str) -> bool:
    stamp = root / _SOURCES
    return (root / MANIFEST).exists() and stamp.exists() and stamp.read_text() == fingerprint


def ensure_built() -> bool:
    """Collect and compress the static files if they are missing or stale; True if it built them."""
    root = Path(settings.STATIC_BUILD_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    fingerprint = _sources_fingerprint()
    if is_current(root, fingerprint):
        return False
    with (root.parent / f".{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another server starting now builds; we wait
        if is_current(root, fingerprint):
            return False
        (root / _SOURCES).unlink(missing_ok=True)
        # collectstatic into ``root`` with the manifest storage, whatever this process's
        # settings chose (they pick the unhashed storage when no manifest existed yet).
        command = collectstatic.Command()
        command.storage = import_string(settings.STATIC_BUILD_STORAGE)(location=str(root))
        # No --clear: a server of the previous version still running on this folder keeps
        # finding the hashed files its pages name.
        call_command(command, interactive=False, verbosity=0)
        (root / _SOURCES).write_text(fingerprint)
    return True
