"""Webhooks: ticket events recorded as deliveries and sent, signed, by the worker."""
