"""WSGI entry point for gunicorn (``thirdway serve`` starts it)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
django_application = get_wsgi_application()

# Agents' heartbeats and results take a lean path in front of Django (docs/monitoring.md).
from thirdway.monitoring.ingest_wsgi import wrap  # noqa: E402 - needs Django set up

application = wrap(django_application)
