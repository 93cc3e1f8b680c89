"""The API's contract: every answer under /api/v1/ must be one the OpenAPI document declares.

The document is the one the API publishes at /api/v1/openapi.json, read once per test session.
An answer keeps the contract when its path and method are an operation of the document, its
status code is declared for that operation, and its JSON body (if it has one) matches the schema
declared for that status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.urls import Resolver404, resolve
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

PREFIX = "/api/v1/"
DOCUMENT = "/api/v1/openapi.json"
# The API's description of itself and its docs page are not operations the document lists.
ABOUT_THE_API = {"openapi-json", "openapi-view"}
# Where the document is registered, so that its "#/components/schemas/..." references resolve.
BASE = "urn:thirdway:openapi"


class ContractBroken(AssertionError):
    """An answer of the API that its OpenAPI document does not declare."""


def _pointer(*parts: str) -> str:
    """A JSON pointer to ``parts`` (RFC 6901: "~" and "/" escaped)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _template(route: str) -> str:
    """A Django route as the document writes its path: ``api/v1/tickets/<int:ticket_id>`` is
    ``/api/v1/tickets/{ticket_id}``."""
    return "/" + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", route)


def _json_body(response: HttpResponseBase) -> tuple[bool, Any]:
    """Whether the answer carries a JSON body, and the body read."""
    if response.streaming or not response.get("Content-Type", "").startswith("application/json"):
        return False, None
    if not response.content:
        return False, None
    return True, json.loads(response.content)


class Contract:
    """The OpenAPI document of /api/v1/, and the checks an answer must pass against it."""

    def __init__(self, load: Callable[[], dict]) -> None:
        self._load = load
        self._validators: dict[str, Draft202012Validator] = {}

    @cached_property
    def document(self) -> dict:
        return self._load()

    @cached_property
    def _registry(self) -> Registry:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        return Registry().with_resource(BASE, resource)

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{BASE}#{pointer}"},
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[pointer]

    def problems(self, method: str, path: str, response: HttpResponseBase) -> list[str]:
        """What in this answer the document does not declare; empty when it keeps the contract."""
        if not path.startswith(PREFIX):
            return []
        try:
            match = resolve(path)
        except Resolver404:
            # Django's own 404 page: no operation of the API was reached.
            return []
        if match.url_name in ABOUT_THE_API:
            return []
        template, verb = _template(match.route), method.lower()
        operation = self.document["paths"].get(template, {}).get(verb)
        if operation is None:
            return [f"{method} {template} is not an operation of the document"]
        status = str(response.status_code)
        declared = operation["responses"].get(status, operation["responses"].get(status[0] + "XX"))
        if declared is None:
            listed = ", ".join(sorted(operation["responses"])) or "none"
            return [f"status {status} is not declared for {method} {template} (only {listed})"]
        has_body, body = _json_body(response)
        if "application/json" not in declared.get("content", {}):
            return [f"a JSON body, where none is declared: {body!r}"] if has_body else []
        if not has_body:
            return [f"no JSON body, where one is declared ({response.get('Content-Type')})"]
        pointer = _pointer(
            "paths", template, verb, "responses", status, "content", "application/json", "schema"
        )
        errors = list(self._validator(pointer).iter_errors(body))
        if not errors:
            return []
        error = best_match(errors)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return [f"the body does not match its schema at {error.json_path}: {error.message}{more}"]

    def check(self, method: str, path: str, response: HttpResponseBase) -> None:
        """Raise ContractBroken, naming path, method, status and the problem, if there is one."""
        problems = self.problems(method, path, response)
        if problems:
            raise ContractBroken(
                f"{method} {path} answered {response.status_code}: " + "; ".join(problems)
            )


def published() -> dict:
    """The OpenAPI document as the API serves it."""
    response = HttpClient().get(DOCUMENT)
    assert response.status_code == 200, response.content
    return response.json()


# Whether the test itself failed, so that a breach it already failed on is not reported twice.
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def api_contract() -> Contract:
    """The contract of /api/v1/; its document is read at the first answer that needs it."""
    return Contract(published)


@pytest.fixture(autouse=True)
def api_answers(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, api_contract: Contract
) -> Iterator[list[str]]:
    """Every answer a test client receives under /api/v1/ is checked against the contract: a
    breach fails the request where it happens, and the test at its end should the breach have
    been caught on the way (in a thread, say). Yields the breaches seen."""
    breaches: list[str] = []
    send = HttpClient.request

    def request_keeping_the_contract(client: HttpClient, **environ: Any) -> HttpResponseBase:
        response = send(client, **environ)
        method, path = response.request["REQUEST_METHOD"], response.request["PATH_INFO"]
        try:
            api_contract.check(method, path, response)
        except ContractBroken as breach:
            breaches.append(str(breach))
            raise
        return response

    monkeypatch.setattr(HttpClient, "request", request_keeping_the_contract)
    yield breaches
    if breaches and not request.node.stash.get(CALL_FAILED, False):
        pytest.fail("answers outside the API's contract:\n" + "\n".join(breaches))
