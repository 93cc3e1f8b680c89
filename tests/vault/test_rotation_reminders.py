"""Rotation reminders: when someone who revealed credentials loses access, the client's
practice gets one ticket listing the unchanged secrets (in an internal note), once per person
and client, and the "revealed and still unchanged" report links to it."""

from __future__ import annotations

from thirdway.accounts import services as accounts
from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.network import services as network
from thirdway.tickets.models import Article, Ticket
from thirdway.vault.models import RotationReminder
from thirdway.vault.services import credentials


def _reveal(user, credential):
    credentials.reveal_credential(user, credential, reason="Router upgrade", source=Source.CLI)


def _nas(cast):
    return credentials.create_credential(
        cast.partner, cast.acme, name="NAS", secret="nas-secret", source=Source.CLI
    )


def _notes(ticket) -> str:
    return "\n".join(a.body_text for a in Article.objects.filter(ticket=ticket))


def test_leaving_the_team_opens_one_ticket_naming_the_unchanged_secrets(cast, firewall):
    nas = _nas(cast)
    for credential in (firewall, nas):
        _reveal(cast.associate, credential)
    credentials.update_credential(cast.partner, nas, {"secret": "changed"}, source=Source.CLI)

    clients.set_team(cast.admin, cast.acme, [], source=Source.CLI)

    reminder = RotationReminder.objects.get(person=cast.associate, client=cast.acme)
    ticket = reminder.ticket
    assert ticket.client == cast.acme and reminder.credential_count == 1
    assert "Firewall" not in ticket.subject and "NAS" not in ticket.subject
    assert "ada" not in ticket.subject.lower()
    notes = _notes(ticket)
    assert "Firewall" in notes and "NAS" not in notes and "ada" in notes
    internal = Article.objects.filter(ticket=ticket, body_text__contains="Firewall")
    assert internal.exists() and all(not a.is_public for a in internal)


def test_reminders_are_opened_once_per_person_and_client(cast, firewall):
    _reveal(cast.associate, firewall)
    clients.set_team(cast.admin, cast.acme, [], source=Source.CLI)
    before = Ticket.objects.count()
    clients.set_team(cast.admin, cast.acme, [cast.associate_record], source=Source.CLI)
    clients.set_team(cast.admin, cast.acme, [], source=Source.CLI)
    accounts.deactivate_user(cast.admin, cast.associate, source=Source.CLI)
    assert Ticket.objects.count() == before
    assert RotationReminder.objects.filter(person=cast.associate).count() == 1


def test_a_partner_leaving_the_network_gets_a_reminder_per_client(cast, firewall, globex_router):
    _reveal(cast.partner, firewall)
    network.update_partner(cast.admin, cast.partner_record, {"is_active": False}, source=Source.CLI)
    reminders = RotationReminder.objects.filter(person=cast.partner)
    assert [r.client for r in reminders] == [cast.acme]
    assert reminders[0].ticket is not None


def test_nothing_is_opened_while_the_person_still_sees_the_credential(cast, firewall):
    _reveal(cast.partner, firewall)
    nas = _nas(cast)
    _reveal(cast.associate, nas)
    credentials.update_credential(cast.partner, nas, {"secret": "changed"}, source=Source.CLI)
    before = Ticket.objects.count()
    # The lead partner still sees Acme off the team; the associate's one secret was changed.
    clients.set_team(cast.admin, cast.acme, [cast.partner_record], source=Source.CLI)
    clients.set_team(cast.admin, cast.acme, [], source=Source.CLI)
    assert Ticket.objects.count() == before
    assert not RotationReminder.objects.exists()


def test_a_deactivated_client_admin_gets_a_reminder(cast, master_key):
    shared = credentials.create_credential(
        cast.partner,
        cast.acme,
        name="Wi-Fi",
        secret="wifi",
        shared_with_client_admins=True,
        source=Source.CLI,
    )
    _reveal(cast.client_admin, shared)
    accounts.deactivate_user(cast.admin, cast.client_admin, source=Source.CLI)
    reminder = RotationReminder.objects.get(person=cast.client_admin)
    assert "Wi-Fi" in _notes(reminder.ticket)


def test_the_report_links_to_the_rotation_ticket(cast, web_as, firewall):
    _reveal(cast.associate, firewall)
    clients.set_team(cast.admin, cast.acme, [], source=Source.CLI)
    number = RotationReminder.objects.get(person=cast.associate).ticket.number
    html = web_as(cast.admin).get(f"/vault/accessed/?person={cast.associate.pk}").content.decode()
    rows = html.split('id="at-risk"')[1]
    assert "Firewall" in rows and f">{number}</a>" in rows and "rotation-ticket" in rows


def _wifi(cast):
    return credentials.create_credential(
        cast.partner,
        cast.acme,
        name="Wi-Fi",
        secret="wifi",
        shared_with_client_admins=True,
        source=Source.CLI,
    )


def test_a_client_admin_made_a_plain_user_gets_a_reminder(cast, master_key):
    _reveal(cast.client_admin, _wifi(cast))
    clients.update_contact(cast.admin, cast.acme_admin_contact, {"role": "user"}, source=Source.CLI)
    assert RotationReminder.objects.filter(person=cast.client_admin, client=cast.acme).exists()


def test_a_contact_set_inactive_gets_a_reminder(cast, master_key):
    _reveal(cast.client_admin, _wifi(cast))
    clients.update_contact(
        cast.admin, cast.acme_admin_contact, {"is_active": False}, source=Source.CLI
    )
    assert RotationReminder.objects.filter(person=cast.client_admin, client=cast.acme).exists()
