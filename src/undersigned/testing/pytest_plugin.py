"""Loaded by pytest (see ``addopts`` in pyproject.toml) before Django reads its settings.

Gives the test run its own secret key and a temporary ./var/, so tests never touch a
developer's demo database or mail folder. Outside a pytest run this module is unused.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("UNDERSIGNED_SECRET_KEY", "test-only-secret-key-" + "x" * 32)
os.environ.setdefault("UNDERSIGNED_VAR_DIR", tempfile.mkdtemp(prefix="undersigned-test-"))
# The shipped default, a table in the (test) database with its own counters, unless the
# run names another: .ci/run runs the abuse, rate-limit and kept-page tests on Redis too.
os.environ.setdefault("UNDERSIGNED_CACHE_URL", "db://")
os.environ.setdefault("UNDERSIGNED_MAIL_DOMAIN", "undersigned.test")
os.environ.setdefault("UNDERSIGNED_BASE_URL", "http://testserver")
# allauth's offline "dummy" provider: social login end to end without any network.
os.environ.setdefault("UNDERSIGNED_SOCIAL_PROVIDERS", "dummy,openid_connect")
# Tests fill forms faster than people; the minimum fill time has tests of its own.
os.environ.setdefault("UNDERSIGNED_FORM_MIN_FILL_SECONDS", "0")
# A proof of work the test process (and Chromium) solves in a moment.
os.environ.setdefault("UNDERSIGNED_POW_COST", "20")
