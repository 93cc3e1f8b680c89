"""Fixtures and names of the page tests: every role of the cast, who sees which client, a fixed
clock and reading pages."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from thirdway.accounts.models import ApiToken, User
from thirdway.audit.models import AuditRecord
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.models import Absence, Partner

# Everyone of the base cast who can sign in, by the attribute name on ``Cast``.
ROLES = [
    "admin",
    "partner",
    "other_partner",
    "associate",
    "desk",
    "client_admin",
    "client_user",
    "other_client_admin",
    "other_client_user",
    "outsider",
]

# The people of the network, and the clients each role may see, as the pages show them.
NETWORK = {"admin", "partner", "other_partner", "associate", "desk"}
VISIBLE_CLIENTS = {
    "admin": {"acme", "globex"},
    "partner": {"acme"},
    "other_partner": {"globex"},
    "associate": {"acme"},
    "desk": {"acme", "globex"},
    "client_admin": {"acme"},
    "client_user": {"acme"},
    "other_client_admin": {"globex"},
    "other_client_user": {"globex"},
    "outsider": set(),
}
CLIENT_NAMES = {"acme": "Acme Bakery", "globex": "Globex Dental"}

# A Wednesday in winter: 11:00 in Lyon (Paula, Ada at work), 05:00 in Montréal (Oscar asleep).
MOMENT = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)


def cell_texts(html: str) -> set[str]:
    """The text of every table cell of a piece of page."""
    return {re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", html)}


@pytest.fixture(params=ROLES)
def role(request) -> str:
    """Parametrises a test over every role of the cast."""
    return request.param


@pytest.fixture
def frozen_now(monkeypatch):
    """Pin "now" for the pages, so availability and the week shown do not depend on the day."""

    def at(moment: dt.datetime = MOMENT) -> dt.datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    at()
    return at


@pytest.fixture
def page():
    """The HTML of a response that must be a plain 200 page."""

    def read(response) -> str:
        assert response.status_code == 200, (response.status_code, response.get("Location"))
        return response.content.decode()

    return read


@pytest.fixture
def section():
    """The inner HTML of the element with the given id (sections, the rows of a list...)."""

    def find(html: str, element_id: str) -> str:
        match = re.search(
            rf'<(section|div) id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.DOTALL
        )
        assert match, f"no element #{element_id} in the page"
        return match.group(2)

    return find


@pytest.fixture
def web_audit():
    """The audit records written through the web by ``actor`` with ``action``."""

    def records(actor, action: str, **filters):
        return AuditRecord.objects.filter(actor=actor, action=action, source="web", **filters)

    return records


class _FormReader(HTMLParser):
    """What a browser would send back from a form unchanged: values, checked boxes, selections."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button"):
                self.data[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self.data[self._select] = value

    def handle_data(self, data) -> None:
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag) -> None:
        if tag == "textarea" and self._textarea:
            # Browsers drop the newline that follows the opening tag.
            self.data[self._textarea] = self.data[self._textarea].removeprefix("\n")
            self._textarea = None
        elif tag == "select" and self._select:
            self.data.setdefault(self._select, self._first_option or "")
            self._select = None


@pytest.fixture
def form_fields():
    """The fields of the page's main form (``class="form"``) as a browser would submit them."""

    def read(html: str, action: str | None = None) -> dict[str, str]:
        forms = re.findall(r'(<form[^>]*class="form"[^>]*>.*?</form>)', html, re.DOTALL)
        if action is not None:
            forms = [form for form in forms if f'action="{action}"' in form]
        assert forms, "no form on the page"
        reader = _FormReader()
        reader.feed(forms[0])
        reader.data.pop("csrfmiddlewaretoken", None)
        return reader.data

    return read


def all_but(*allowed: str) -> list[str]:
    """Every role of the cast but ``allowed``."""
    return [role for role in ROLES if role not in allowed]


# Every table a form of the pages can write to.
WRITTEN = (AuditRecord, User, ApiToken, Partner, Absence, Client, Site, Contact, Asset)


@pytest.fixture
def written():
    """Counts of every table a form can write to, for proving that nothing was written."""

    def counts() -> dict[str, int]:
        return {model.__name__: model.objects.count() for model in WRITTEN}

    return counts


def form_with(browser, url, page, form_fields, **changes) -> dict[str, str]:
    """The form at ``url`` as the browser would send it back, with ``changes``."""
    data = form_fields(page(browser.get(url)))
    missing = set(changes) - set(data)
    assert not missing, f"the form has no {missing}"
    data.update(changes)
    return data
