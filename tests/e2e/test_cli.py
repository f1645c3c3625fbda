"""The `storeplane` command as a user runs it: the installed console script, as a subprocess, against
the whole platform (tests/e2e/conftest.py), with its config in a folder of the test's own.

A store ordered with `--wait` is followed on the event stream to ready (exit 0, its URLs printed);
`events --follow` prints every event live, one line each, and ends with the store's deletion;
`delete --wait` ends when it is deleted; `-o json` is the API's JSON; the interactive login is
answered at its prompts (pexpect); an expired session is refreshed by itself; an API token logs in,
is held to its scopes and stops when revoked. A store that cannot provision (a namespace quota that
admits no pod, on a platform of its own) exits 1 with the reason, again when retried, and an admin
lists it with `--all`.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pexpect
import pytest

from tests.e2e.platforms import running_platform
from tests.steps import PROVISIONING_STEPS

pytestmark = pytest.mark.e2e

STOREPLANE = str(Path(sys.executable).with_name("storeplane"))
PASSWORD = "correct horse battery"


def register(api: str) -> str:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    answer = httpx.post(f"{api}/api/v1/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 201, answer.text
    return email


def cli(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STOREPLANE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def cli_env(api: str, home: Path) -> dict[str, str]:
    return {**os.environ, "STOREPLANE_API": api, "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1"}


def logged_in(api: str, home: Path) -> dict[str, str]:
    env = cli_env(api, home)
    done = cli(env, "login", "--email", register(api), "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    return env


def credentials_file(home: Path) -> Path:
    return home / "storeplane" / "credentials.json"


def test_the_interactive_login_is_answered_at_its_prompts(platform: str, tmp_path: Path) -> None:
    email = register(platform)
    child = pexpect.spawn(STOREPLANE, ["login"], env=cli_env(platform, tmp_path), encoding="utf-8", timeout=60)
    child.expect("Email: ")
    child.sendline(email)
    child.expect("Password: ")
    child.sendline(PASSWORD)
    child.expect(f"Logged in to {platform} as {email}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert PASSWORD not in (child.before or "")  # the password is never echoed
    assert stat.S_IMODE(credentials_file(tmp_path).stat().st_mode) == 0o600

    account = cli(cli_env(platform, tmp_path), "account", "-o", "json")
    assert account.returncode == 0, account.stderr
    assert json.loads(account.stdout)["user"]["email"] == email

    assert cli(cli_env(platform, tmp_path), "logout").returncode == 0
    after = cli(cli_env(platform, tmp_path), "account")
    assert after.returncode == 1 and "storeplane login" in after.stderr


def test_api_errors_print_the_message_and_code_with_their_exit_status(platform: str, tmp_path: Path) -> None:
    env = logged_in(platform, tmp_path)
    bad_name = cli(env, "stores", "create", "admin", "--engine", "woocommerce")
    assert bad_name.returncode == 2 and "(invalid_name)" in bad_name.stderr, bad_name.stderr
    missing = cli(env, "stores", "get", str(uuid.uuid4()))
    assert missing.returncode == 1 and "(store_not_found)" in missing.stderr, missing.stderr
    unknown = cli(env, "stores", "get", "no-such-shop")
    assert unknown.returncode == 1 and "No store named 'no-such-shop'" in unknown.stderr
    wrong_login = cli(
        cli_env(platform, tmp_path / "other"),
        "login",
        "--email",
        "x@example.com",
        "--password-stdin",
        stdin="wrong password\n",
    )
    assert wrong_login.returncode == 1 and "(invalid_credentials)" in wrong_login.stderr


def test_an_api_token_made_logs_in_works_and_stops_when_revoked(platform: str, tmp_path: Path) -> None:
    env = logged_in(platform, tmp_path / "session")
    made = cli(env, "tokens", "create", "ci deploys", "--scope", "stores:read", "-o", "json")
    assert made.returncode == 0 and "shown once" in made.stderr, made.stderr
    secret = json.loads(made.stdout)["token"]
    listed = json.loads(cli(env, "tokens", "list", "-o", "json").stdout)["tokens"]
    assert [t["name"] for t in listed] == ["ci deploys"] and secret not in str(listed)

    robot = cli_env(platform, tmp_path / "robot")
    assert cli(robot, "login", "--token", secret).returncode == 0
    assert json.loads(cli(robot, "stores", "list", "-o", "json").stdout) == {"stores": [], "next": None}
    refused = cli(robot, "stores", "create", "robot-shop", "--engine", "woocommerce")
    assert refused.returncode == 1 and "(insufficient_scope)" in refused.stderr, refused.stderr

    assert cli(env, "tokens", "revoke", "ci deploys").returncode == 0
    after = cli(robot, "stores", "list")
    assert after.returncode == 1 and "(not_authenticated)" in after.stderr, after.stderr


def test_an_expired_session_is_refreshed_by_itself_and_saved(platform: str, tmp_path: Path) -> None:
    env = logged_in(platform, tmp_path)
    path = credentials_file(tmp_path)
    saved = json.loads(path.read_text())
    entry = saved[platform]
    entry["expires_at"] = time.time() - 1
    path.write_text(json.dumps(saved))
    listed = cli(env, "stores", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"stores": [], "next": None}
    renewed = json.loads(path.read_text())[platform]
    assert renewed["token"] != entry["token"] and renewed["refresh_token"] != entry["refresh_token"]
    assert renewed["expires_at"] > time.time()


def test_create_wait_follow_json_and_delete_wait(platform: str, tmp_path: Path) -> None:
    env = logged_in(platform, tmp_path)
    created = cli(env, "stores", "create", "cli-shop", "--engine", "woocommerce", "--wait")
    assert created.returncode == 0, created.stdout + created.stderr
    lines = created.stdout.splitlines()
    assert lines[0].startswith("Ordered store cli-shop (")
    steps = [text for text in lines if text.startswith("✓ ")]
    assert len(steps) == len(PROVISIONING_STEPS), created.stdout  # one line per step, each with a tick
    assert steps[0].startswith("✓ requested") and steps[-1].startswith("✓ ready")
    assert all(text.rstrip().endswith("s") for text in steps[1:])  # each with its duration
    assert "storefront  http://cli-shop.stores.localhost/" in created.stdout
    assert "\x1b" not in created.stdout  # not a terminal: no colour, no spinner

    listed = json.loads(cli(env, "stores", "list", "-o", "json").stdout)
    [store] = listed["stores"]
    assert store["name"] == "cli-shop" and store["status"] == "ready"
    plain = cli(env, "stores", "list").stdout.splitlines()
    assert plain[0].split() == ["ID", "NAME", "ENGINE", "STATUS", "CREATED", "URL"] and "┃" not in plain[0]
    assert plain[1].split()[:4] == [store["id"], "cli-shop", "woocommerce", "ready"]
    # On a terminal the same list is a Rich table, with box drawing.
    terminal = pexpect.spawn(
        STOREPLANE, ["stores", "list"], env=env, encoding="utf-8", timeout=60, dimensions=(24, 200)
    )
    terminal.expect(pexpect.EOF)
    assert "┃" in (terminal.before or "") and "cli-shop" in (terminal.before or "")
    got = cli(env, "stores", "get", "cli-shop", "-o", "json")
    assert json.loads(got.stdout)["id"] == store["id"]
    timeline = json.loads(cli(env, "stores", "events", store["id"], "-o", "json").stdout)["events"]
    assert [event["type"] for event in timeline] == PROVISIONING_STEPS

    shown = cli(env, "stores", "credentials", "cli-shop")
    assert shown.returncode == 0 and "shown once" in shown.stderr and "admin_url" in shown.stdout
    again = cli(env, "stores", "credentials", "cli-shop")
    assert again.returncode == 1 and "(credentials_already_revealed)" in again.stderr

    follower = subprocess.Popen(
        [STOREPLANE, "stores", "events", "cli-shop", "--follow", "-o", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        refused = cli(env, "stores", "delete", "cli-shop", stdin="n\n")  # asks first
        assert refused.returncode == 1 and "Delete store cli-shop" in refused.stdout
        deleted = cli(env, "stores", "delete", "cli-shop", "--wait", "--yes")
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr
        assert deleted.stdout.splitlines()[-1] == "Store cli-shop is deleted."
        assert "✓ deleted" in deleted.stdout
        out, err = follower.communicate(timeout=60)  # ends by itself after StoreDeleted
    finally:
        follower.kill()
    assert follower.returncode == 0, err
    followed = [json.loads(text) for text in out.splitlines()]
    types = [event["type"] for event in followed]
    assert types[: len(PROVISIONING_STEPS)] == PROVISIONING_STEPS and types[-1] == "StoreDeleted"
    assert len({event["sequence"] for event in followed}) == len(followed)  # each event once
    assert {event["store_id"] for event in followed} == {store["id"]}


@pytest.fixture
def tight_platform(database_url: str, kubeconfig: Path, cluster_bin: Path, servers_dir: Path) -> Iterator[str]:
    """A platform of its own whose store namespaces admit no pod: every store fails at readiness."""
    extra = {"STOREPLANE_QUOTA_PODS": "0"}
    root = servers_dir / f"cli-tight-{uuid.uuid4().hex[:6]}"
    with running_platform(
        root, database_url=database_url, kubeconfig=kubeconfig, cluster_bin=cluster_bin, extra=extra
    ) as url:
        yield url


def test_a_failing_store_exits_1_with_step_reason_and_retry_command_and_admins_list_it_with_all(
    tight_platform: str, database_url: str, tmp_path: Path
) -> None:
    env = logged_in(tight_platform, tmp_path)
    failed = cli(env, "stores", "create", "cli-tight", "--engine", "woocommerce", "--wait")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "✗ failed at readiness: quota_exceeded" in failed.stdout
    assert "Store cli-tight failed at step readiness: quota_exceeded" in failed.stderr
    assert "exceeded quota" in failed.stderr  # the message
    assert "storeplane stores retry cli-tight --wait" in failed.stderr
    as_json = cli(env, "stores", "get", "cli-tight", "-o", "json")
    assert json.loads(as_json.stdout)["error"]["reason"] == "quota_exceeded"
    again = cli(env, "stores", "retry", "cli-tight", "--wait")
    assert again.returncode == 1 and "✗ failed at readiness: quota_exceeded" in again.stdout, again.stdout

    # An admin (made by the operator's command, on this platform's database) sees it among everyone's stores.
    admin_email = register(tight_platform)
    granted = subprocess.run(
        [sys.executable, "-m", "storeplane_gateway", "admin", "grant", admin_email],
        env={**os.environ, "STOREPLANE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert granted.returncode == 0, granted.stderr
    admin = cli_env(tight_platform, tmp_path / "admin")
    assert cli(admin, "login", "--email", admin_email, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert json.loads(cli(admin, "stores", "list", "-o", "json").stdout) == {"stores": [], "next": None}
    everyone = json.loads(cli(admin, "stores", "list", "--all", "-o", "json").stdout)["stores"]
    assert [(s["name"], s["status"], bool(s["owner_id"])) for s in everyone] == [("cli-tight", "failed", True)]
    table = cli(admin, "stores", "list", "--all").stdout.splitlines()
    assert table[0].split()[-1] == "OWNER" and everyone[0]["owner_id"] in table[1]

    deleted = cli(env, "stores", "delete", "cli-tight", "--wait", "--yes")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
