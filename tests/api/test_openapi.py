"""The API describes itself: every path in the OpenAPI schema, and a docs page."""

from django.test import Client as HttpClient

from support.api import API

PATHS = {
    "/me": {"get"},
    "/practices": {"get", "post"},
    "/practices/{practice_id}": {"get", "patch"},
    "/partners": {"get", "post"},
    "/partners/{partner_id}": {"get", "patch"},
    "/partners/{partner_id}/skills/{practice_id}": {"put", "delete"},
    "/absences": {"get", "post"},
    "/absences/{absence_id}": {"get", "patch", "delete"},
    "/clients": {"get", "post"},
    "/clients/{client_id}": {"get", "patch"},
    "/clients/{client_id}/team": {"put"},
    "/sites": {"get", "post"},
    "/sites/{site_id}": {"get", "patch"},
    "/contacts": {"get", "post"},
    "/contacts/{contact_id}": {"get", "patch"},
    "/assets": {"get", "post"},
    "/assets/{asset_id}": {"get", "patch"},
}


def schema() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_openapi_schema_lists_every_path_and_method(db):
    paths = schema()["paths"]

    listed = {url.removeprefix(API): set(methods) for url, methods in paths.items()}
    assert {url: listed.get(url) for url in PATHS} == PATHS


def test_every_operation_requires_a_token_or_a_session(db):
    paths = schema()["paths"]

    for url in PATHS:
        for method, operation in paths[API + url].items():
            assert {"TokenAuth": []} in operation["security"], (method, url)
            assert {"EnrolledSessionAuth": []} in operation["security"], (method, url)


def test_the_schema_documents_the_write_payloads_and_forbids_unknown_fields(db):
    components = schema()["components"]["schemas"]

    for name in ("PartnerIn", "PartnerPatch", "ClientIn", "AssetIn", "AbsenceIn", "SkillIn"):
        assert components[name]["additionalProperties"] is False, name
    assert {"latitude", "longitude", "time_zone"} <= set(components["PartnerIn"]["required"])


def test_the_docs_page_answers(db):
    response = HttpClient().get(f"{API}/docs")

    assert response.status_code == 200
    assert "openapi.json" in response.content.decode()


def test_every_operation_declares_the_refusals_of_the_server_and_of_size(db):
    paths = schema()["paths"]

    for url, methods in paths.items():
        for method, operation in methods.items():
            answers = operation["responses"]
            # The web server's answer to a request line over its limit: no JSON body.
            assert answers["414"] == {"description": "Request-URI Too Long"}, (method, url)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content or "multipart/form-data" in content:
                body = answers["413"]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/TooLargeOut"}, (method, url)
            if "application/json" in content:
                body = answers["400"]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/InvalidOut"}, (method, url)


def test_no_two_schemas_share_a_name():
    """The OpenAPI document names each schema by its class name, so two rooms' ``StepOut``
    would become one component and every answer of the other would be checked against it."""
    from collections import defaultdict

    from ninja import Schema

    import thirdway.api  # noqa: F401  (every room's schemas, through the routers)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    where = defaultdict(set)
    for cls in subclasses(Schema):
        if cls.__module__.startswith("thirdway.") and cls.__qualname__ == cls.__name__:
            where[cls.__name__].add(cls.__module__)
    assert {name: sorted(mods) for name, mods in where.items() if len(mods) > 1} == {}
