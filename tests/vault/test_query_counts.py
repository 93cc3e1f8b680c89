"""The vault's lists, pages and API alike, ask the same number of queries for 1 row or 12."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from support.api import API
from thirdway.audit.models import Source
from thirdway.vault.services import credentials, documents, expirations

MORE = 11


def _add(cast, number: int) -> None:
    credentials.create_credential(
        cast.partner,
        cast.acme,
        name=f"PC {number}",
        secret="s",
        site_id=cast.acme_site.pk,
        asset_id=cast.acme_server.pk,
        source=Source.CLI,
    )
    documents.create_document(
        cast.partner,
        cast.acme,
        title=f"Page {number}",
        site_id=cast.acme_site.pk,
        source=Source.CLI,
    )
    item = expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="licence",
        name=f"Licence {number}",
        expires_on=dt.date.today() + dt.timedelta(days=5),
        asset_id=cast.acme_server.pk,
        source=Source.CLI,
    )
    expirations.remind_item(item.pk, dt.date.today())


def _counts(cast, web, api) -> list[int]:
    urls = [
        (web, f"/vault/clients/{cast.acme.pk}/credentials/"),
        (web, f"/vault/clients/{cast.acme.pk}/documents/"),
        (web, f"/vault/clients/{cast.acme.pk}/expirations/"),
        (web, "/vault/expirations/"),
        (api, f"{API}/vault/credentials"),
        (api, f"{API}/vault/documents"),
        (api, f"{API}/vault/expirations"),
    ]
    counts = []
    for client, url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts.append(len(queries))
    return counts


def test_each_list_asks_a_fixed_number_of_queries(cast, web_as, api_as, master_key):
    web, api = web_as(cast.partner), api_as(cast.partner)
    api.get(f"{API}/me")  # the token's first use is noted once
    _add(cast, 0)
    few = _counts(cast, web, api)
    for number in range(1, 1 + MORE):
        _add(cast, number)
    assert _counts(cast, web, api) == few
