"""The typed HTTP API at /api/v1/: one router per room, errors as JSON that say what is allowed."""

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ImproperlyConfigured,
    PermissionDenied,
    RequestDataTooBig,
    ValidationError,
)
from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer, SessionAuth

from thirdway.accounts.api import router as accounts_router
from thirdway.accounts.services import user_for_token
from thirdway.billing.api import router as billing_router
from thirdway.billing.capital_api import router as capital_router
from thirdway.billing.documents_api import router as invoice_documents_router
from thirdway.billing.exports_api import router as exports_router
from thirdway.billing.items_api import router as items_router
from thirdway.billing.projects_api import router as projects_router
from thirdway.billing.runs_api import router as runs_router
from thirdway.billing.sharing_api import router as sharing_router
from thirdway.billing.statements_api import router as statements_router
from thirdway.billing.succession_api import router as succession_router
from thirdway.billing.terms_api import router as terms_router
from thirdway.billing.timesheets_api import router as timesheets_router
from thirdway.clients.api import router as clients_router
from thirdway.insights.api import router as insights_router
from thirdway.insights.settings_api import router as insights_settings_router
from thirdway.mail.api import router as mail_router
from thirdway.monitoring.agent_api import AgentUnauthorized
from thirdway.monitoring.agent_api import agent_router as monitoring_agent_router
from thirdway.monitoring.agent_api import enrol_router as monitoring_enrol_router
from thirdway.monitoring.agent_api import router as monitoring_agents_router
from thirdway.monitoring.api import intake_router as monitoring_intake_router
from thirdway.monitoring.api import ping_router as monitoring_ping_router
from thirdway.monitoring.api import router as monitoring_router
from thirdway.monitoring.incidents_api import router as monitoring_incidents_router
from thirdway.monitoring.rules_api import router as monitoring_rules_router
from thirdway.monitoring.scripts_api import router as monitoring_scripts_router
from thirdway.monitoring.tags_api import router as monitoring_tags_router
from thirdway.network.api import router as network_router
from thirdway.payloads import VALID_TEXT
from thirdway.playbooks.api import router as playbooks_router
from thirdway.sales.api import router as sales_router
from thirdway.sla.api import router as sla_router
from thirdway.tickets.api.router import router as tickets_router
from thirdway.tickets.lifecycle import TransitionRefused
from thirdway.tickets.services import AttachmentTooLarge
from thirdway.vault.api import router as vault_router
from thirdway.vault.api_files import router as vault_files_router
from thirdway.vault.uploads import FileTooLarge, ScannerUnavailable

# Where ninja says a field came from; people need only the field's own name.
SCHEMA_LOCATIONS = {"body", "payload", "query", "file", "form", "path", "header", "filters"}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer tw_...`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class EnrolledSessionAuth(SessionAuth):
    """The browser session (with CSRF), unless the person still owes a required second factor:
    enrolment is enforced on pages, so the session must not open the API around it.

    A request that sends an ``Authorization`` header is judged by its token alone, and one
    without a signed-in session is simply unauthenticated: both are 401s, never a CSRF 403,
    since CSRF protects a session that exists."""

    def __call__(self, request: HttpRequest):
        if "authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if (
            user is not None
            and settings.REQUIRE_ADMIN_SECOND_FACTOR
            and user.is_practice_admin
            and not user.has_second_factor
        ):
            return None
        return user


class ErrorOut(Schema):
    """Why a request was refused: no valid token (401), not allowed (403), not found (404)."""

    detail: str


class FieldErrorOut(Schema):
    field: str
    problem: str
    allowed: str


class InvalidOut(Schema):
    """Invalid input (400): each field named, with the problem and what is allowed."""

    detail: str
    errors: list[FieldErrorOut]


class TooLargeOut(Schema):
    """A file, or a whole request body, over its size limit (413)."""

    detail: str
    limit_bytes: int
    errors: list[FieldErrorOut]


class RefusedMoveOut(Schema):
    """A status the ticket cannot move to from its own (409), with the statuses it can."""

    detail: str
    status: str
    allowed: list[str]


ERROR_MODELS = (ErrorOut, InvalidOut, TooLargeOut, RefusedMoveOut)
WRITES = {"post", "put", "patch", "delete"}
# What some operations answer beyond what their shape says, by method and path under the root.
MORE_ERRORS: dict[tuple[str, str], dict[int, tuple[type[Schema], ...]]] = {
    ("get", "/webhooks"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/on-call"): {404: (ErrorOut,)},  # the network only
    ("post", "/dispatch/next"): {409: (ErrorOut,)},  # nothing to take
    ("post", "/tickets/{ticket_id}/status"): {409: (RefusedMoveOut,)},
    ("post", "/timesheets/{sheet_id}/submit"): {409: (RefusedMoveOut,)},
    ("post", "/timesheets/{sheet_id}/approve"): {409: (RefusedMoveOut,)},
    ("post", "/timesheets/{sheet_id}/reject"): {409: (RefusedMoveOut,)},
    ("get", "/billing/drift"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/billing/exports"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/billing/exports/pending"): {403: (ErrorOut,)},
    ("get", "/billing/export-mappings/{practice_id}"): {403: (ErrorOut,)},
    ("get", "/billing/export-mappings/{practice_id}/debtors"): {403: (ErrorOut,)},
    ("get", "/dispatch-switches/{practice_id}"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/billing/client-details/{client_id}"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/billing/settings/{practice_id}"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/billing/sharing/{practice_id}"): {403: (ErrorOut,)},  # practice admins only
    ("get", "/billing/runs/preview"): {403: (ErrorOut,)},  # practice admins only
    # what a plan would move reads the whole network: practice admins only
    ("get", "/billing/successions/{succession_id}/preview"): {403: (ErrorOut,)},
    # a draft has no document; an e-invoice needs the practice's VAT identifier and country
    ("get", "/invoices/{invoice_id}/pdf"): {409: (RefusedMoveOut,)},
    ("get", "/invoices/{invoice_id}/facturx"): {409: (RefusedMoveOut, ErrorOut)},
    ("get", "/invoices/{invoice_id}/ubl"): {409: (RefusedMoveOut, ErrorOut)},
    ("post", "/monitoring/alertmanager"): {401: (ErrorOut,)},  # the client's intake token
    ("post", "/monitoring/agent/enrol"): {401: (ErrorOut,)},  # the enrolment token
    ("get", "/insights/figures"): {404: (ErrorOut,)},  # figures the viewer may not read
    ("get", "/insights/scorecard"): {404: (ErrorOut,)},  # partners only
    # the practice admin's settings: anyone else is told there are none
    ("get", "/insights/nps-settings"): {404: (ErrorOut,)},
    ("patch", "/insights/nps-settings"): {404: (ErrorOut,)},
    ("get", "/insights/thresholds"): {404: (ErrorOut,)},
    ("patch", "/insights/thresholds"): {404: (ErrorOut,)},
    # a proposal's signed link: not ours (404), or too old (410)
    ("post", "/sales/proposal-answers/accept"): {404: (ErrorOut,), 410: (ErrorOut,)},
    ("post", "/sales/proposal-answers/decline"): {404: (ErrorOut,), 410: (ErrorOut,)},
}
# The POSTs that take an Idempotency-Key (tickets.idempotency): a retry that waited too long
# for the first request is a 409, a key another request used a 422.
IDEMPOTENT = {
    "/tickets",
    "/tickets/{ticket_id}/reply",
    "/tickets/{ticket_id}/note",
    "/tickets/{ticket_id}/status",
    "/tickets/{ticket_id}/assign",
    "/tickets/{ticket_id}/priority",
    "/tickets/{ticket_id}/merge",
    "/tickets/{ticket_id}/split",
    "/tickets/{ticket_id}/links",
}


def _errors_by_shape(method: str, operation: dict) -> dict[int, tuple[type[Schema], ...]]:
    """The refusals an operation can answer, from what it takes (docs/api.md): input can be
    invalid, an id can be out of sight, a write can be refused, a file can be too large."""
    errors: dict[int, tuple[type[Schema], ...]] = {}
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody", {}).get("content", {})
    if parameters or body:
        errors[400] = (InvalidOut,)
    if operation.get("security"):
        errors[401] = (ErrorOut,)
    if method in WRITES:
        errors[403] = (ErrorOut,)
    if any(parameter["in"] == "path" for parameter in parameters):
        errors[404] = (ErrorOut,)
    if "multipart/form-data" in body or "application/json" in body:
        errors[413] = (TooLargeOut,)
    # The web server's own answer (no JSON) to a request line over its limit (docs/api.md).
    errors[414] = ()
    return errors


def _errors_of(method: str, path: str, operation: dict) -> dict[int, tuple[type[Schema], ...]]:
    errors = _errors_by_shape(method, operation)
    for status, models in MORE_ERRORS.get((method, path), {}).items():
        errors[status] = errors.get(status, ()) + models
    if method == "post" and path in IDEMPOTENT:
        errors[409] = (*errors.get(409, ()), ErrorOut)
        errors[422] = (*errors.get(422, ()), InvalidOut)
    return errors


def _answer_of(models: tuple[type[Schema], ...]) -> dict[str, Any]:
    refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in models]
    return {"application/json": {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}}


def declare_errors(document: dict, root: str) -> None:
    """Add the error answers of the handlers below to each operation of an OpenAPI document
    whose paths start with ``root`` (ninja lists only the answers an operation returns itself)."""
    components = document["components"].setdefault("schemas", {})
    for model in ERROR_MODELS:
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, schema in {**found.pop("$defs", {}), model.__name__: found}.items():
            if components.setdefault(name, schema) != schema:
                raise ImproperlyConfigured(f"Two schemas of the API are called {name}.")
    listed = {*MORE_ERRORS, *(("post", path) for path in IDEMPOTENT)}
    for url, operations in document["paths"].items():
        path = "/" + url.removeprefix(root).lstrip("/")
        for method, operation in operations.items():
            listed.discard((method, path))
            for status, models in _errors_of(method, path, operation).items():
                answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
                if models:
                    answer["content"] = _answer_of(models)
                operation["responses"].setdefault(status, answer)
    if listed:
        raise ImproperlyConfigured(f"No such operations of the API: {sorted(listed)}.")


class ThirdwayApi(NinjaAPI):
    """The API, whose OpenAPI document declares the errors it answers with the rest."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        declare_errors(document, "/" + path_prefix.strip("/"))
        return document


api = ThirdwayApi(
    title="Thirdway API",
    version="1",
    description="The API of a managed IT service practice run by a cooperative of partners.",
    auth=[TokenAuth(), EnrolledSessionAuth()],
    urls_namespace="api",
    # Swagger UI is served from our static files (ninja ships them): the page works offline
    # and under the Content-Security-Policy; no spec validator is called on another host.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("/", accounts_router, tags=["accounts"])
api.add_router("/", network_router, tags=["network"])
api.add_router("/", clients_router, tags=["clients"])
api.add_router("/", sla_router, tags=["sla"])
api.add_router("/", tickets_router, tags=["tickets"])
api.add_router("/", mail_router, tags=["mail"])
api.add_router("/", vault_router, tags=["vault"])
api.add_router("/", vault_files_router, tags=["vault"])
api.add_router("/", billing_router, tags=["billing"])
api.add_router("/", timesheets_router, tags=["billing"])
api.add_router("/", statements_router, tags=["billing"])
api.add_router("/", invoice_documents_router, tags=["billing"])
api.add_router("/", exports_router, tags=["billing"])
api.add_router("/", terms_router, tags=["billing"])
api.add_router("/", succession_router, tags=["billing"])
api.add_router("/", items_router, tags=["billing"])
api.add_router("/", sharing_router, tags=["billing"])
api.add_router("/", projects_router, tags=["billing"])
api.add_router("/", capital_router, tags=["billing"])
api.add_router("/", runs_router, tags=["billing"])
api.add_router("/", monitoring_router, tags=["monitoring"])
api.add_router("/", monitoring_rules_router, tags=["monitoring"])
api.add_router("/", monitoring_ping_router, tags=["monitoring"])
api.add_router("/", monitoring_intake_router, tags=["monitoring"])
api.add_router("/", monitoring_agents_router, tags=["monitoring"])
api.add_router("/", monitoring_scripts_router, tags=["monitoring"])
api.add_router("/", monitoring_tags_router, tags=["monitoring"])
api.add_router("/", monitoring_incidents_router, tags=["monitoring"])
api.add_router("/", monitoring_enrol_router, tags=["monitoring agent"])
api.add_router("/", monitoring_agent_router, tags=["monitoring agent"])
api.add_router("/", playbooks_router, tags=["playbooks"])
api.add_router("/", insights_router, tags=["insights"])
api.add_router("/", insights_settings_router, tags=["insights"])
api.add_router("/", sales_router, tags=["sales"])


def _limits(code: str | None, params: dict) -> str:
    if "allowed" in params:
        return str(params["allowed"])
    if code == "min_value":
        return f"a value of at least {params['limit_value']}"
    if code == "max_value":
        return f"a value of at most {params['limit_value']}"
    if code == "max_length":
        return f"at most {params['limit_value']} characters"
    return {
        "blank": "a non-empty value",
        "null": "a value (not null)",
        "unique": f"a value no other {params.get('model_name', 'record')} has",
        "invalid_choice": "one of the documented choices",
    }.get(code, ANY_DOCUMENTED_VALUE)


def _formatted(message: str, params: dict) -> str:
    """Django's ``message % params``; a message whose ``%`` is not a placeholder stays as it
    is rather than failing the answer."""
    if not params:
        return str(message)
    try:
        return str(message % params)
    except (KeyError, TypeError, ValueError):
        return str(message)


def validation_items(error: ValidationError) -> list[dict]:
    """Django validation errors as ``[{field, problem, allowed}]``."""
    items = []
    if hasattr(error, "error_dict"):
        pairs = error.error_dict.items()
    else:
        pairs = [("__all__", error.error_list)]
    for field, errors in pairs:
        for item in errors:
            params = item.params or {}
            message = _formatted(item.message, params)
            items.append(
                {"field": field, "problem": str(message), "allowed": _limits(item.code, params)}
            )
    return items


@api.exception_handler(SchemaError)
def schema_error(request: HttpRequest, exc: SchemaError):
    items = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", [])]
        # Leading parts say where (the body, its payload); a field may be named like one.
        for _ in range(2):
            if location and location[0] in SCHEMA_LOCATIONS:
                location.pop(0)
        items.append(
            {
                "field": ".".join(location) or "__all__",
                "problem": error.get("msg", "Invalid value."),
                "allowed": _pydantic_allowed(error),
            }
        )
    return api.create_response(request, {"detail": "Invalid input.", "errors": items}, status=400)


DATETIME = "an ISO 8601 date and time with offset, e.g. 2026-07-01T09:00:00Z"
# Every error says what is allowed; this is for the rare ones without a more precise text.
ANY_DOCUMENTED_VALUE = "a value as described for this field in the API docs"
BOUNDS = {
    "greater_than_equal": ("ge", "of at least"),
    "greater_than": ("gt", "greater than"),
    "less_than_equal": ("le", "of at most"),
    "less_than": ("lt", "less than"),
}


def _pydantic_allowed(error: dict) -> str:
    context = error.get("ctx") or {}
    if "allowed" in context:
        return str(context["allowed"])
    if "expected" in context:
        return f"one of {context['expected']}"
    kind = error.get("type", "")
    if kind in BOUNDS:
        key, words = BOUNDS[kind]
        return f"a value {words} {context[key]}"
    if kind == "too_short":
        return f"at least {context['min_length']} items"
    if kind == "too_long":
        return f"at most {context['max_length']} items"
    if kind == "string_too_long":
        return f"at most {context['max_length']} characters"
    return {
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "missing": "this field is required",
        "datetime_parsing": DATETIME,
        "datetime_from_date_parsing": DATETIME,
        "datetime_type": DATETIME,
        "timezone_aware": DATETIME,
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "a string",
        "string_unicode": VALID_TEXT,
        "dict_type": "an object",
        "list_type": "a list",
        "tuple_type": "a list",
        "extra_forbidden": "only the documented fields",
    }.get(kind, ANY_DOCUMENTED_VALUE)


@api.exception_handler(ValidationError)
def service_validation_error(request: HttpRequest, exc: ValidationError):
    payload = {"detail": "Invalid input.", "errors": validation_items(exc)}
    return api.create_response(request, payload, status=400)


@api.exception_handler(TransitionRefused)
def transition_refused(request: HttpRequest, exc: TransitionRefused):
    payload = {"detail": str(exc), "status": exc.current, "allowed": exc.allowed}
    return api.create_response(request, payload, status=409)


@api.exception_handler(AttachmentTooLarge)
def attachment_too_large(request: HttpRequest, exc: AttachmentTooLarge):
    limit = settings.ATTACHMENT_MAX_BYTES
    payload = {
        "detail": f"A file is over the size limit: each file may be at most {limit} bytes.",
        "limit_bytes": limit,
        "errors": validation_items(exc),
    }
    return api.create_response(request, payload, status=413)


@api.exception_handler(FileTooLarge)
def file_too_large(request: HttpRequest, exc: FileTooLarge):
    """A vault file over the size limit or the client's quota: nothing was stored."""
    return api.create_response(request, exc.payload(), status=413)


@api.exception_handler(ScannerUnavailable)
def scanner_unavailable(request: HttpRequest, exc: ScannerUnavailable):
    """The vault's virus scanner could not be reached: nothing was stored (fail closed)."""
    return api.create_response(request, exc.payload(), status=503)


@api.exception_handler(RequestDataTooBig)
def request_too_large(request: HttpRequest, exc: RequestDataTooBig):
    return body_too_large(request, getattr(exc, "limit", None))


def body_too_large(request: HttpRequest, limit: int | None = None):
    limit = limit or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    error = {
        "field": "__all__",
        "problem": "The request body is over the size limit.",
        "allowed": f"a body of at most {limit} bytes",
    }
    payload = {
        "detail": f"The request body is over the size limit of {limit} bytes.",
        "limit_bytes": limit,
        "errors": [error],
    }
    return api.create_response(request, payload, status=413)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "Not allowed."}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"detail": "Not found."}, status=404)


# What a body that cannot be read at all is refused with: no field of it could be named.
UNREADABLE = {
    "field": "__all__",
    "allowed": "a JSON object (UTF-8) with the fields this operation documents",
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    """ninja's own refusals. Its only 400 is a body it could not read, answered in the shape
    of every invalid input (docs/api.md), with where the reading stopped; a body over the size
    limit is a 413 saying the limit."""
    if exc.status_code != 400:
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
    cause = exc.__cause__
    if isinstance(cause, RequestDataTooBig):
        return body_too_large(request)
    problem = "The body is not valid JSON" + (f": {cause}." if cause is not None else ".")
    error = {**UNREADABLE, "problem": problem}
    return api.create_response(request, {"detail": "Invalid input.", "errors": [error]}, status=400)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError):
    if isinstance(exc, AgentUnauthorized):  # an agent is told nothing of why
        return api.create_response(request, {"detail": "Unauthorized."}, status=401)
    response = api.create_response(
        request, {"detail": "Send a valid API token: Authorization: Bearer tw_..."}, status=401
    )
    # RFC 6750: say the scheme; a token that was sent but not accepted is "invalid_token".
    challenge = 'Bearer realm="thirdway"'
    if "authorization" in request.headers:
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response
