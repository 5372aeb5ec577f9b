import atexit
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersigned.settings")
application = get_wsgi_application()

# A web worker that exits writes the composer openings it has counted but not yet written.
from undersigned.letters import composer_counts  # noqa: E402 (after Django is set up)

atexit.register(composer_counts.flush)
