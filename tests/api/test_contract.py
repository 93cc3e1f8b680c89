"""The check every API answer of the tests goes through fails when an answer breaks the OpenAPI
document: a body that does not match its schema, a status the operation does not declare, an
operation the document does not list, a JSON body where none is declared."""

import copy
import json

import pytest
from django.http import HttpResponse, JsonResponse

from support.api import API
from support.contract import ContractBroken


def answer(body, status: int = 200) -> HttpResponse:
    return JsonResponse(body, status=status, safe=False)


def test_a_real_answer_keeps_the_contract(cast, api_as, api_contract):
    response = api_as(cast.partner).get(f"{API}/me")

    assert response.status_code == 200
    assert api_contract.problems("GET", f"{API}/me", response) == []


def test_a_body_that_does_not_match_its_schema_breaks_the_contract(cast, api_as, api_contract):
    response = api_as(cast.partner).get(f"{API}/me")
    response.content = json.dumps({**response.json(), "id": "seven"})

    with pytest.raises(ContractBroken) as broken:
        api_contract.check("GET", f"{API}/me", response)

    assert str(broken.value) == (
        "GET /api/v1/me answered 200: the body does not match its schema at $.id: "
        "'seven' is not of type 'integer'"
    )


def test_a_missing_field_breaks_the_contract(cast, api_contract):
    body = {"id": cast.acme.pk, "name": "Acme Bakery"}

    problems = api_contract.problems("GET", f"{API}/clients/{cast.acme.pk}", answer(body))

    assert len(problems) == 1
    assert problems[0].startswith("the body does not match its schema at $: ")
    assert "is a required property" in problems[0]


def test_an_error_body_of_the_wrong_shape_breaks_the_contract(cast, api_contract):
    body = {"detail": "Invalid input.", "errors": [{"field": "name", "problem": "Required."}]}

    problems = api_contract.problems("POST", f"{API}/practices", answer(body, 400))

    assert problems, "a field error without what is allowed must not pass"


def test_a_status_the_operation_does_not_declare_breaks_the_contract(db, api_contract):
    with pytest.raises(ContractBroken) as broken:
        api_contract.check("GET", f"{API}/me", answer({"detail": "I'm a teapot."}, 418))

    assert str(broken.value) == (
        "GET /api/v1/me answered 418: status 418 is not declared for GET /api/v1/me "
        "(only 200, 401, 414)"
    )


def test_a_method_the_document_does_not_list_breaks_the_contract(db, api_contract):
    problems = api_contract.problems("DELETE", f"{API}/me", answer({"detail": "Gone."}))

    assert problems == ["DELETE /api/v1/me is not an operation of the document"]


def test_a_json_body_where_none_is_declared_breaks_the_contract(cast, api_contract):
    url = f"{API}/partners/{cast.partner_record.pk}/skills/{cast.security.pk}"

    problems = api_contract.problems("DELETE", url, answer({"removed": True}, 204))

    assert problems == ["a JSON body, where none is declared: {'removed': True}"]


def test_the_test_client_checks_every_api_answer(cast, api_as, api_contract, api_answers):
    document = copy.deepcopy(api_contract.document)
    del document["paths"]["/api/v1/me"]["get"]["responses"]["200"]
    client = api_as(cast.partner)

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(api_contract.__dict__, "document", document)
        with pytest.raises(ContractBroken, match="status 200 is not declared for GET"):
            client.get(f"{API}/me")
    assert api_answers == [
        "GET /api/v1/me answered 200: status 200 is not declared for GET /api/v1/me (only 401, 414)"
    ]
    api_answers.clear()  # the breach was wanted here: the test must not fail at its end

    assert client.get(f"{API}/me").status_code == 200


def test_pages_outside_the_api_are_not_checked(cast, web_as, api_contract):
    response = web_as(cast.partner).get("/accounts/settings/")

    assert response.status_code == 200
    assert api_contract.problems("GET", "/accounts/settings/", response) == []
