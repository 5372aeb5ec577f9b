"""Settings for mypy's Django plugin, which imports settings outside any real environment.

It needs a secret key to import them at all; it never runs the application.
"""

import os
import tempfile

os.environ.setdefault("UNDERSIGNED_SECRET_KEY", "typecheck-only-secret-key-" + "x" * 32)
os.environ.setdefault("UNDERSIGNED_VAR_DIR", os.path.join(tempfile.gettempdir(), "undersigned-typecheck"))

from undersigned.settings import *  # noqa: F403
