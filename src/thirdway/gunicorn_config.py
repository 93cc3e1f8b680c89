"""gunicorn's settings under ``thirdway serve``: load the code once, then fork the web workers.

Before it forks, the master imports Django and every view (the URLconf is otherwise read at a
worker's first request), the libraries pages load on first use (the public-holiday tables,
the password hasher) and compiles Thirdway's templates.  The workers then share those pages
with the master instead of each holding a copy; ``gc.freeze`` keeps the collector from
writing to the shared objects (a write would copy the page into the worker).  Database
connections opened while loading are closed before the fork: a connection is never shared
between processes.
"""

from __future__ import annotations

import gc
from pathlib import Path

preload_app = True


def when_ready(server: object) -> None:
    preload()
    gc.collect()
    gc.freeze()


def preload() -> None:
    """Load now what every web worker would otherwise load for itself at its first pages."""
    import argon2  # noqa: F401 - the password hasher, at each sign-in
    from django.db import connections
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
    from django.urls import get_resolver

    from thirdway.sla import calendars

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - reading it imports every view
    resolver.reverse_dict  # noqa: B018 - and reading this indexes them for reverse()
    calendars.supported_countries()  # imports every country's holidays, as settings pages do
    engine = engines["django"]
    root = Path(__file__).parent
    for folder in sorted(root.glob("*/templates")):
        for path in sorted(folder.rglob("*.html")):
            try:
                engine.get_template(path.relative_to(folder).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue  # a page asking for it reports the problem, not the start-up
    connections.close_all()
