"""The producer lookups of api/deps.py (``PathProducerDep``, ``CustodialKeyProducerDep``)
as the custodial routes use them: which check answers first when several fail, and
what each answers (problem+json), as when every route ran its own preamble."""

from __future__ import annotations

from vntrace.node.store.types import Role

from .conftest import Gateway
from .helpers import Producer, assert_problem

UNKNOWN = "0x" + "12" * 20
PATTERN = "String should match pattern '^0x[0-9a-fA-F]{40}$'"


def _auditor(gw: Gateway) -> dict[str, str]:
    issued = gw.node.store.create_api_key(Role.AUDITOR, None)
    return {"Authorization": f"Bearer {issued.token}"}


def test_authentication_answers_before_the_path_and_the_lookup(gw: Gateway) -> None:
    for address in (UNKNOWN, "0xnothex"):
        r = gw.client.post(f"/v1/producers/{address}/custodial-key")
        assert assert_problem(r, 401)["detail"].startswith("this endpoint needs an API key")
        r = gw.client.delete(f"/v1/producers/{address}/custodians/{UNKNOWN}")
        assert_problem(r, 401)


def test_the_lookup_answers_before_the_role(gw: Gateway, producer: Producer) -> None:
    for headers in (_auditor(gw), producer.headers):
        r = gw.client.post(f"/v1/producers/{UNKNOWN}/custodial-key", headers=headers)
        assert assert_problem(r, 404)["detail"] == f"no producer {UNKNOWN}"
    r = gw.client.post(f"/v1/producers/{producer.address}/custodial-key", headers=_auditor(gw))
    assert assert_problem(r, 403)["detail"] == "only the producer or the administrator may do this"
    r = gw.client.delete(f"/v1/producers/{UNKNOWN}/custodians/{UNKNOWN}", headers=producer.headers)
    assert assert_problem(r, 403)["detail"] == "only the administrator may do this"


def test_a_malformed_address_is_one_422_whichever_dependency_declares_it(gw: Gateway) -> None:
    for r in (
        gw.client.post("/v1/producers/0xnothex/custodial-key", headers=gw.admin),
        gw.client.get("/v1/producers/0xnothex/custodians"),
    ):
        body = assert_problem(r, 422)
        assert body["detail"] == f"address: {PATTERN}"
        assert [(e["field"], e["in"]) for e in body["errors"]] == [("address", "path")]


def test_revoking_checks_both_path_segments_before_the_lookup(gw: Gateway) -> None:
    r = gw.client.delete(f"/v1/producers/{UNKNOWN}/custodians/0xnothex", headers=gw.admin)
    assert assert_problem(r, 422)["detail"] == f"custodian: {PATTERN}"
    r = gw.client.delete("/v1/producers/0xnothex/custodians/0xnothex", headers=gw.admin)
    body = assert_problem(r, 422)
    assert [e["field"] for e in body["errors"]] == ["address", "custodian"]
    r = gw.client.delete(f"/v1/producers/{UNKNOWN}/custodians/{UNKNOWN}", headers=gw.admin)
    assert assert_problem(r, 404)["detail"] == f"no producer {UNKNOWN}"


def test_the_location_keeps_the_address_as_the_caller_spelt_it(
    gw: Gateway, producer: Producer
) -> None:
    lower = producer.address.lower()
    r = gw.client.post(f"/v1/producers/{lower}/custodial-key", headers=producer.headers)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/producers/{lower}/custodians"
    public = gw.client.get(f"/v1/producers/{lower}/custodians")
    assert public.status_code == 200 and public.json()["producer"] == producer.address


def test_a_deactivated_producer_gets_no_key_whoever_asks(gw: Gateway) -> None:
    producer = gw.producer("Deactivated")
    row = gw.node.producers.producer(producer.address)
    gw.node.store.set_producer_active(row.id, False)
    for headers in (producer.headers, gw.admin):
        r = gw.client.post(f"/v1/producers/{producer.address}/custodial-key", headers=headers)
        assert assert_problem(r, 403)["detail"] == "this producer is deactivated"


def test_the_openapi_parameters_stay_in_path_order(gw: Gateway) -> None:
    paths = gw.client.get("/openapi.json").json()["paths"]
    revoke = paths["/v1/producers/{address}/custodians/{custodian}"]["delete"]
    assert [p["name"] for p in revoke["parameters"]] == ["address", "custodian"]
    create = paths["/v1/producers/{address}/custodial-key"]["post"]
    assert [p["name"] for p in create["parameters"]] == ["address"]
    assert create["security"] == [{"apiKey": []}]
