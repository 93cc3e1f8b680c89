"""Forms of the client portal: signing in, opening a ticket, replying."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from thirdway.tickets.models import TicketType

MAX_FILES = 10


class PasswordSignInForm(forms.Form):
    # Contacts sign in with their e-mail address (their username); plain text, so a member of
    # the network who types a username here is told where to go instead.
    email = forms.CharField(
        label="E-mail",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "inputmode": "email", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        # Shown beside the password form: its own ids, so each label finds its input.
        kwargs.setdefault("auto_id", "link_%s")
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked against the attachment size limit."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_FILES:
            raise ValidationError(f"At most {MAX_FILES} files at a time.")
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in files]
        limit = settings.ATTACHMENT_MAX_BYTES
        too_large = [item for item in cleaned if item.size > limit]
        if too_large:
            raise ValidationError(
                [
                    f"{item.name} is {filesizeformat(item.size)}; "
                    f"the limit is {filesizeformat(limit)} per file. Nothing was sent."
                    for item in too_large
                ]
            )
        return cleaned


class AttachmentsMixin(forms.Form):
    attachments = MultipleFileField(
        label="Attachments",
        help_text="Screenshots or files that help (optional).",
    )


class NewTicketForm(AttachmentsMixin, forms.Form):
    subject = forms.CharField(
        label="Subject",
        max_length=250,
        help_text="In a few words: what is wrong or what do you need?",
    )
    type = forms.ChoiceField(
        label="This is",
        choices=[
            (TicketType.INCIDENT, "Something is not working"),
            (TicketType.SERVICE_REQUEST, "A request (new account, software, equipment…)"),
        ],
        initial=TicketType.INCIDENT,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label="Description",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What happened, since when, and what you already tried.",
    )
    asset = forms.ModelChoiceField(
        label="Device or service",
        queryset=None,
        required=False,
        empty_label="None, or not sure",
    )

    field_order = ["subject", "type", "description", "asset", "attachments"]

    def __init__(self, *args, assets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets
        if not assets.exists():
            del self.fields["asset"]


class ReplyForm(AttachmentsMixin, forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    field_order = ["body", "attachments"]

    def clean(self):
        cleaned = super().clean()
        empty = not (cleaned.get("body") or "").strip() and not cleaned.get("attachments")
        if empty and not self.errors:
            raise ValidationError("Write a reply or attach a file.")
        return cleaned
