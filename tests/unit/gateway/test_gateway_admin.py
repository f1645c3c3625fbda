"""Admins: the role comes from the account (read with the session on every request), never from the
token's claims; an admin's session lists and
acts on every store, reads the audit trail; everyone else gets 403 (or the usual 404 for stores)."""

from __future__ import annotations

import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.events import StoreDeletionRequested
from storeplane_gateway.http.authentication import TOKEN_ISSUER
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import STORES, assert_error, order_store, sign_up, sign_up_admin


async def test_an_admin_lists_every_store_with_its_owner(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client)
    adas = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    others = fakes.status.add_store(owner_id="someone-else", name="shop-two")

    everyone = await client.get(f"{STORES}?all=true", headers=root.headers)
    assert everyone.status_code == 200, everyone.text
    listed = {store["id"]: store["owner_id"] for store in everyone.json()["stores"]}
    assert listed == {adas.id: ada.id, others.id: "someone-else"}
    # Without `all`, an admin sees their own stores like anyone.
    assert (await client.get(STORES, headers=root.headers)).json() == {"stores": [], "next": None}

    refused = await client.get(f"{STORES}?all=true", headers=ada.headers)
    assert_error(refused, 403, "admin_only")
    assert "owner_id" not in (await client.get(STORES, headers=ada.headers)).json()["stores"][0]


async def test_an_admin_reads_and_deletes_any_store(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client)
    adas = fakes.status.add_store(owner_id=ada.id, name="shop-one")

    assert (await client.get(f"{STORES}/{adas.id}", headers=root.headers)).json()["id"] == adas.id
    assert (await client.get(f"{STORES}/{adas.id}/events", headers=root.headers)).status_code == 200
    deleting = await client.delete(f"{STORES}/{adas.id}", headers=root.headers)
    assert deleting.status_code == 202, deleting.text
    [event] = fakes.bus.published
    assert isinstance(event, StoreDeletionRequested) and event.owner_id == ada.id  # the owner's store, still
    actor = next(entry for entry in fakes.audit.entries if entry.action == "delete_store")
    assert (actor.actor_id, actor.actor_role, actor.target) == (root.id, "admin", adas.id)


async def test_an_admin_cannot_spend_an_owners_one_look_at_credentials(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client)
    adas = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    assert_error(await client.get(f"{STORES}/{adas.id}/credentials", headers=root.headers), 404, "store_not_found")
    assert fakes.secrets.revealed == set()
    assert (await client.get(f"{STORES}/{adas.id}/credentials", headers=ada.headers)).status_code == 200


async def test_a_forged_role_claim_is_refused(
    client: AsyncTestClient[Litestar], fakes: Fakes, settings: GatewaySettings
) -> None:
    """The role is in the signed token: changing it breaks the signature, so the server never believes it."""
    ada = await sign_up(client)
    claims = jwt.decode(ada.token, settings.jwt_secret, algorithms=["HS256"], issuer=TOKEN_ISSUER)
    claims["extras"]["role"] = "admin"
    forged = jwt.encode(claims, "an-attacker-s-own-key-long-enough-for-hs256", algorithm="HS256")
    response = await client.get(f"{STORES}?all=true", headers={"Authorization": f"Bearer {forged}"})
    assert_error(response, 401, "not_authenticated")
    unsigned = jwt.encode(claims, "", algorithm="none")  # "none" signs with no key: PyJWT takes "" for it
    response = await client.get(f"{STORES}?all=true", headers={"Authorization": f"Bearer {unsigned}"})
    assert_error(response, 401, "not_authenticated")


async def test_a_role_claim_re_signed_with_the_real_key_makes_no_admin(
    client: AsyncTestClient[Litestar], settings: GatewaySettings
) -> None:
    """Even a token signed with the gateway's own key (a leaked key) carries no authority in its role
    claim: the account's role decides."""
    ada = await sign_up(client)
    claims = jwt.decode(ada.token, settings.jwt_secret, algorithms=["HS256"], issuer=TOKEN_ISSUER)
    claims["extras"]["role"] = "admin"
    resigned = {"Authorization": "Bearer " + jwt.encode(claims, settings.jwt_secret, algorithm="HS256")}
    assert_error(await client.get("/api/v1/admin/audit", headers=resigned), 403, "admin_only")
    assert_error(await client.get(f"/api/v1/admin/users/{ada.id}/quota", headers=resigned), 403, "admin_only")
    assert_error(await client.get(f"{STORES}?all=true", headers=resigned), 403, "admin_only")
    assert (await client.get(STORES, headers=resigned)).status_code == 200  # still ada, as a user


async def test_a_revoked_admin_loses_admin_powers_on_the_next_request(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    """The role is read from the account on every request: taking it away (as `storeplane-gateway admin
    revoke` does, here without ending the sessions) takes effect at once, tokens still valid."""
    root = await sign_up_admin(client, fakes.grant_admin)
    assert (await client.get("/api/v1/admin/audit", headers=root.headers)).status_code == 200
    await fakes.users.set_role(root.id, "user")
    assert_error(await client.get("/api/v1/admin/audit", headers=root.headers), 403, "admin_only")
    assert_error(await client.get(f"{STORES}?all=true", headers=root.headers), 403, "admin_only")
    assert (await client.get(STORES, headers=root.headers)).status_code == 200


async def test_admin_routes_refuse_users(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    for response in (
        await client.get("/api/v1/admin/audit", headers=ada.headers),
        await client.get(f"/api/v1/admin/users/{ada.id}/quota", headers=ada.headers),
        await client.put(f"/api/v1/admin/users/{ada.id}/quota", json={"store_limit": 50}, headers=ada.headers),
    ):
        assert_error(response, 403, "admin_only")
    assert_error(await client.get("/api/v1/admin/audit"), 401, "not_authenticated")


async def test_the_audit_trail_is_read_newest_first_and_filtered(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client)
    await order_store(client, ada, "shop-one")
    await client.post("/api/v1/auth/login", json={"email": ada.email, "password": "wrong horse"})

    trail = await client.get("/api/v1/admin/audit", headers=root.headers)
    assert trail.status_code == 200, trail.text
    entries = trail.json()["entries"]
    # The admin's own register and login (after the grant) are the oldest.
    assert [entry["action"] for entry in entries] == ["login", "create_store", "register", "login", "register"]
    assert entries[0]["outcome"] == "refused" and entries[0]["error_code"] == "invalid_credentials"

    mine = await client.get(f"/api/v1/admin/audit?actor_id={ada.id}&limit=1", headers=root.headers)
    assert [entry["action"] for entry in mine.json()["entries"]] == ["create_store"]
    logins = await client.get("/api/v1/admin/audit?action=login", headers=root.headers)
    assert [entry["actor_email"] for entry in logins.json()["entries"]] == [ada.email, root.email]
    for bad in ("limit=0", "limit=501", "action=audit.*", "actor_id=ada"):
        assert_error(await client.get(f"/api/v1/admin/audit?{bad}", headers=root.headers), 400, "invalid_request")
