"""Seal the IMAP passwords kept in plain text under the network's data key, and empty the
plain column (removed by the next migration)."""

from django.db import migrations

FIELD = "imap_password"


def _record(pk) -> str:
    return f"mail.mailbox:{pk}"


def seal(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    rows = Mailbox.objects.exclude(imap_password="").filter(imap_password_sealed="")
    if not rows.exists():
        return  # a new install, or nothing to seal: the vault is not asked for a key
    from thirdway.vault.keyring import seal_network_secret

    for mailbox in rows.order_by("pk"):
        version, sealed = seal_network_secret(_record(mailbox.pk), FIELD, mailbox.imap_password)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            imap_password_sealed=sealed, imap_password_key_version=version, imap_password=""
        )


def unseal(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    rows = Mailbox.objects.exclude(imap_password_sealed="")
    if not rows.exists():
        return
    from thirdway.vault.keyring import open_network_secret

    for mailbox in rows.order_by("pk"):
        plain = open_network_secret(
            _record(mailbox.pk),
            FIELD,
            mailbox.imap_password_key_version,
            mailbox.imap_password_sealed,
        )
        Mailbox.objects.filter(pk=mailbox.pk).update(
            imap_password=plain, imap_password_sealed="", imap_password_key_version=0
        )


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0004_mailbox_sealed_password"),
        ("vault", "0003_networkkey"),
    ]

    operations = [migrations.RunPython(seal, unseal)]
