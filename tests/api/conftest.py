"""Fixtures of the API tests."""

import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The cast signs ten people up; a fast hasher keeps hundreds of API tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The monitoring agent's operations take the agent's own secret, not a person's token: with a
# person's token they are a bare 401 before any field is read.
AGENT_SCHEME = "AgentSecret"


def by_agent(operation: dict) -> bool:
    return any(AGENT_SCHEME in requirement for requirement in operation.get("security", []))


@pytest.fixture
def caller(cast, api_as):
    """A function giving, for an operation of the OpenAPI document, a client allowed to call
    it: an enrolled agent for the agent's operations, the practice admin for the others."""
    from django.test import Client as HttpClient

    from thirdway.audit.models import Source
    from thirdway.monitoring import agents

    admin = api_as(cast.admin)
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    _, secret = agents.enrol(token, hostname="srv-contract", os_name="Debian GNU/Linux")
    agent = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    return lambda operation: agent if by_agent(operation) else admin
