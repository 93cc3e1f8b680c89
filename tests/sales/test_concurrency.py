"""Two acceptances and a staff win at the same moment make one client, one contract, one run."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from thirdway.audit.models import Source
from thirdway.billing.models import Contract
from thirdway.clients.models import Client
from thirdway.playbooks.models import Run
from thirdway.sales import links, winning
from thirdway.sales.models import Opportunity, Proposal


@pytest.mark.django_db(transaction=True)
def test_racing_acceptances_and_a_staff_win_make_one_client(cast, pipeline, threads_db):
    use_db = threads_db()
    start = threading.Barrier(3)
    outcomes: list[str] = []
    proposal_id, deal_id = pipeline.proposal.pk, pipeline.deal.pk

    def accept(name: str) -> None:
        try:
            with use_db():
                proposal = Proposal.objects.get(pk=proposal_id)
                start.wait()
                try:
                    links.accept(proposal, name=name, agreed=True, ip=None, source=Source.WEB)
                    outcomes.append("accepted")
                except ValidationError:
                    outcomes.append("refused")
        finally:
            connection.close()

    def staff() -> None:
        try:
            with use_db():
                deal = Opportunity.objects.get(pk=deal_id)
                start.wait()
                winning.win(cast.admin, deal, source=Source.WEB)
                outcomes.append("won")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=accept, args=("Camille",)),
        threading.Thread(target=accept, args=("Camille again",)),
        threading.Thread(target=staff),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("accepted") <= 1 and "won" in outcomes and len(outcomes) == 3
    with use_db():
        client = Client.objects.get(name="Boulangerie Durand")
        assert Contract.objects.filter(client=client).count() == 1
        assert Run.objects.filter(client=client).count() == 1
        assert Opportunity.objects.get(pk=deal_id).client_id == client.pk
