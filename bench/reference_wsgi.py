"""The WSGI entry point of the bare Django reference (bench/ must be on PYTHONPATH)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "reference_settings"
application = get_wsgi_application()
