"""Fixtures of the API tests."""

import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The cast signs ten people up; a fast hasher keeps hundreds of API tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
