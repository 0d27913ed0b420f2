"""API keys managed over GraphQL: shown once, scoped to the administrator's
region, never more powerful than their creator, audited, and refused cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from minzheng.core.auth import ApiKey
from minzheng.core.models import AuditEntry

CREATE = """mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) {
    key apiKey { name keyPrefix role grants regionCode createdBy revokedAt }
    errors { __typename code message ... on ValidationError { field } } } }"""
REVOKE = """mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) {
    apiKey { name revokedAt } errors { __typename code } } }"""
LIST = "{ apiKeys { name keyPrefix role regionCode revokedAt } }"


async def _counts(api: Any) -> tuple[int, int]:
    async with api.engine.connect() as conn:
        keys = await conn.scalar(select(func.count()).select_from(ApiKey))
        audited = await conn.scalar(select(func.count()).where(AuditEntry.action.like("apikey.%")))
    return int(keys or 0), int(audited or 0)


async def test_create_use_list_and_revoke(make_api: Any) -> None:
    admin = make_api()
    data = (
        await admin.gql(
            CREATE, {"i": {"name": "县数据平台", "role": "integration", "regionCode": "410823"}}
        )
    )["createApiKey"]
    assert data["errors"] == []
    key = data["key"]
    assert key.startswith("mzk_") and data["apiKey"]["keyPrefix"] == key[:12]
    assert data["apiKey"] | {"keyPrefix": None} == {
        "name": "县数据平台",
        "keyPrefix": None,
        "role": "integration",
        "grants": [],
        "regionCode": "410823000000",
        "createdBy": "admin@410800",
        "revokedAt": None,
    }
    # the key works, within its region
    resp = await admin.http.post(
        "/graphql",
        json={"query": '{ region(code: "410823") { name } }'},
        headers={"authorization": "", "x-api-key": key},
    )
    assert resp.json() == {"data": {"region": {"name": "武陟县"}}}
    listed = (await admin.gql(LIST))["apiKeys"]
    assert [k["name"] for k in listed] == ["县数据平台"]
    assert key not in str(listed)

    revoked = (await admin.gql(REVOKE, {"i": {"name": "县数据平台"}}))["revokeApiKey"]
    assert revoked["errors"] == [] and revoked["apiKey"]["revokedAt"]
    refused = await admin.http.post(
        "/graphql",
        json={"query": "{ regions { code } }"},
        headers={"authorization": "", "x-api-key": key},
    )
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "API_KEY_REVOKED"

    async with admin.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AuditEntry.action, AuditEntry.principal, AuditEntry.after)
                .where(AuditEntry.action.like("apikey.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(a, p) for a, p, _ in rows] == [
        ("apikey.create", "admin@410800"),
        ("apikey.revoke", "admin@410800"),
    ]
    assert key not in str([after for _, _, after in rows])  # only the prefix is kept


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        (
            {"name": "x", "role": "no-such-role", "regionCode": "410823"},
            "unknown_role_or_permission",
            "input.role",
        ),
        (
            {"name": "x", "role": "integration", "regionCode": "410823", "grants": ["nope:do"]},
            "unknown_role_or_permission",
            "input.role",
        ),
        (
            {"name": "x", "role": "integration", "regionCode": "99x"},
            "bad_region_code",
            "input.regionCode",
        ),
        (
            {"name": "x", "role": "integration", "regionCode": "410823999"},
            "unknown_region",
            "input.regionCode",
        ),
        ({"name": " ", "role": "integration", "regionCode": "410823"}, "bad_name", "input.name"),
        (
            {"name": "x" * 65, "role": "integration", "regionCode": "410823"},
            "bad_name",
            "input.name",
        ),
    ],
    ids=[
        "unknown-role",
        "unknown-grant",
        "bad-region",
        "unknown-region",
        "blank-name",
        "long-name",
    ],
)
async def test_bad_input_is_a_typed_error_and_writes_nothing(
    make_api: Any, payload: dict[str, Any], code: str, field: str
) -> None:
    admin = make_api()
    before = await _counts(admin)
    data = (await admin.gql(CREATE, {"i": payload}))["createApiKey"]
    assert data["key"] is None and data["apiKey"] is None
    [error] = data["errors"]
    assert (error["__typename"], error["code"], error["field"]) == ("ValidationError", code, field)
    assert await _counts(admin) == before


async def test_region_scope_and_names_taken_elsewhere(make_api: Any) -> None:
    city = make_api()
    county = city.as_("admin", "410823")
    outside = (
        await county.gql(
            CREATE, {"i": {"name": "温县", "role": "integration", "regionCode": "410825"}}
        )
    )["createApiKey"]
    assert [e["code"] for e in outside["errors"]] == ["out_of_scope"]
    made = (
        await city.gql(
            CREATE, {"i": {"name": "温县", "role": "integration", "regionCode": "410825"}}
        )
    )["createApiKey"]
    assert made["errors"] == []
    # the county administrator does not see it, cannot revoke it, cannot take its name
    assert (await county.gql(LIST))["apiKeys"] == []
    gone = (await county.gql(REVOKE, {"i": {"name": "温县"}}))["revokeApiKey"]
    assert [e["code"] for e in gone["errors"]] == ["not_found"]
    taken = (
        await county.gql(
            CREATE, {"i": {"name": "温县", "role": "integration", "regionCode": "410823"}}
        )
    )["createApiKey"]
    assert [e["code"] for e in taken["errors"]] == ["bad_name"]
    assert await _counts(city) == (1, 1)


async def test_a_key_never_holds_more_than_its_creator(make_api: Any, tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text(
        '[roles.keymaster]\npermissions = ["apikey:manage", "region:read", "registry:read"]\n'
    )
    keymaster = make_api("keymaster", role_map_file=str(roles))
    before = await _counts(keymaster)
    for payload in (
        {"name": "写入", "role": "caseworker", "regionCode": "410823"},
        {"name": "敏感", "role": "viewer", "regionCode": "410823", "grants": ["pii:read"]},
    ):
        data = (await keymaster.gql(CREATE, {"i": payload}))["createApiKey"]
        assert [e["code"] for e in data["errors"]] == ["forbidden"], data
        assert (
            "registry:write" in data["errors"][0]["message"]
            or "pii:read" in data["errors"][0]["message"]
        )
    ok = (
        await keymaster.gql(
            CREATE, {"i": {"name": "只读", "role": "integration", "regionCode": "410823"}}
        )
    )["createApiKey"]
    # integration holds statistics:read, payroll:read and plugin reads the keymaster lacks
    assert [e["code"] for e in ok["errors"]] == ["forbidden"]
    assert await _counts(keymaster) == before


async def test_without_the_permission_nothing_is_shown_or_done(make_api: Any) -> None:
    viewer = make_api("viewer")
    for query, variables in (
        (LIST, None),
        (CREATE, {"i": {"name": "x", "role": "viewer", "regionCode": "410823"}}),
        (REVOKE, {"i": {"name": "x"}}),
    ):
        body = await viewer.gql(query, variables, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await _counts(viewer) == (0, 0)
