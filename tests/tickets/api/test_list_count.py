"""The ticket list's ``count``: exact up to the cap, then the cap plus one and ``count_capped``."""

import pytest

from thirdway import payloads

from .conftest import get


def test_the_count_is_exact_below_the_cap(cast, desk, api_as):
    body = get(api_as(cast.admin), "/tickets", limit=2).json()
    assert (body["count"], body["count_capped"]) == (4, False)
    assert len(body["items"]) == 2


@pytest.mark.parametrize(("cap", "count", "capped"), [(4, 4, False), (3, 4, True), (2, 3, True)])
def test_past_the_cap_the_count_stops_and_says_so(
    cast, desk, api_as, monkeypatch, cap, count, capped
):
    monkeypatch.setattr(payloads, "COUNT_CAP", cap)
    client = api_as(cast.admin)
    body = get(client, "/tickets", limit=1).json()
    assert (body["count"], body["count_capped"]) == (count, capped)
    # The pages themselves go on past the cap: offset reads every ticket once.
    seen = [get(client, "/tickets", limit=1, offset=n).json()["items"] for n in range(5)]
    assert [len(items) for items in seen] == [1, 1, 1, 1, 0]
    assert len({items[0]["number"] for items in seen[:4]}) == 4


def test_a_client_contact_counts_only_what_they_see(cast, desk, api_as, monkeypatch):
    monkeypatch.setattr(payloads, "COUNT_CAP", 1)
    body = get(api_as(cast.client_admin), "/tickets").json()
    assert (body["count"], body["count_capped"]) == (2, True)
    body = get(api_as(cast.other_client_user), "/tickets").json()
    assert (body["count"], body["count_capped"]) == (1, False)
