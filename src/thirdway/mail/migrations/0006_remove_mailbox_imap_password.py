"""The plain IMAP password column goes: the passwords are sealed (0005)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("mail", "0005_seal_imap_passwords")]

    operations = [migrations.RemoveField(model_name="mailbox", name="imap_password")]
