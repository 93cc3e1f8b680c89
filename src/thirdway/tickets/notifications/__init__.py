"""Notifications to the network: who should hear of a ticket event, in the app and by e-mail."""
