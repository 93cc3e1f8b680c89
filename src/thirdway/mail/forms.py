"""Forms of the mail pages: triage a message to a client, edit a notification template."""

from __future__ import annotations

from django import forms

from thirdway.clients.models import Client
from thirdway.mail.models import NotificationKind
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
