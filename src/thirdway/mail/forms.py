"""Forms of the mail pages: triage a message to a client, edit a notification template, a
mailbox's settings and the mail domains of clients."""

from __future__ import annotations

from django import forms

from thirdway.clients.models import Client
from thirdway.mail.models import AfterFetch, Mailbox, NotificationKind
from thirdway.network.models import Practice


class AssignForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.for_user(user)


class TemplateForm(forms.Form):
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(), required=False, empty_label="Every practice (default)"
    )
    # the client's notifications (the network's own notices have fixed wording)
    kind = forms.ChoiceField(
        choices=[
            (k, label) for k, label in NotificationKind.choices if k != NotificationKind.NOTICE
        ]
    )
    subject = forms.CharField(max_length=250)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))


class MailboxForm(forms.Form):
    """A mailbox's settings; validated by the mail services (the same messages as the command
    line).  The stored password is never sent back: left empty, it is kept."""

    name = forms.CharField(
        max_length=50, help_text="Letters, digits, - and _; the name the mail server pipes to."
    )
    address = forms.CharField(max_length=254, help_text="Replies go to this address.")
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(), required=False, empty_label="None"
    )
    default_client = forms.ModelChoiceField(
        queryset=Client.objects.none(),
        required=False,
        empty_label="None (unknown senders go to triage)",
    )
    imap_host = forms.CharField(
        max_length=200, required=False, label="IMAP server", help_text="Empty: no polling."
    )
    imap_port = forms.IntegerField(label="IMAP port", min_value=1, max_value=65535, initial=993)
    imap_ssl = forms.BooleanField(label="TLS (IMAPS)", required=False, initial=True)
    imap_user = forms.CharField(max_length=200, required=False, label="IMAP user")
    imap_password = forms.CharField(
        max_length=200,
        required=False,
        label="IMAP password",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_folder = forms.CharField(max_length=200, initial="INBOX", label="IMAP folder")
    after_fetch = forms.ChoiceField(choices=AfterFetch.choices, initial=AfterFetch.DELETE)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, user, mailbox: Mailbox | None = None, **kwargs) -> None:
        if mailbox is not None:
            kwargs.setdefault(
                "initial",
                {
                    field: getattr(mailbox, field)
                    for field in self.base_fields
                    if field != "imap_password"  # never opened for a page, never sent back
                }
                | {"imap_password": ""},
            )
        super().__init__(*args, **kwargs)
        self.fields["default_client"].queryset = Client.objects.for_user(user)
        if mailbox is not None:
            del self.fields["name"]  # the name is what mail servers deliver to: kept
            stored = (
                "A password is stored; leave empty to keep it." if mailbox.has_imap_password else ""
            )
            self.fields["imap_password"].help_text = stored

    def settings(self) -> dict:
        """The cleaned settings as the service takes them (an empty password keeps the old)."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "name"}
        if not data["imap_password"]:
            del data["imap_password"]
        return data


class ClientDomainForm(forms.Form):
    domain = forms.CharField(max_length=253, help_text="Mail from this domain names the client.")
    client = forms.ModelChoiceField(queryset=Client.objects.none())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.for_user(user)
