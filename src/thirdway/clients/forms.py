"""Forms of client records; they only shape input, the services decide."""

from __future__ import annotations

from django import forms

from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.clients.services import ASSET_FIELDS, CLIENT_FIELDS, CONTACT_FIELDS, SITE_FIELDS


class ServiceValidatedForm(forms.ModelForm):
    def _post_clean(self) -> None:
        """Model validation belongs to the service, which also checks ownership."""


class ClientForm(ServiceValidatedForm):
    class Meta:
        model = Client
        fields = CLIENT_FIELDS


class SiteForm(ServiceValidatedForm):
    class Meta:
        model = Site
        fields = SITE_FIELDS


class ContactForm(ServiceValidatedForm):
    class Meta:
        model = Contact
        fields = CONTACT_FIELDS


class AssetForm(ServiceValidatedForm):
    class Meta:
        model = Asset
        fields = ASSET_FIELDS

    def __init__(self, *args, client: Client, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Offer only this client's sites and people, so no other client's ids leak into the page.
        self.fields["site"].queryset = client.sites.all()
        self.fields["contact"].queryset = client.contacts.all()


class ClientFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Client._meta.get_field("status").choices]
    )
