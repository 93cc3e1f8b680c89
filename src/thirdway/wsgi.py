"""WSGI entry point for gunicorn (``thirdway serve`` starts it)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
application = get_wsgi_application()
