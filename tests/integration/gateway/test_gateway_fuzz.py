"""Schemathesis fuzzes the gateway through its own OpenAPI schema and finds no 5xx and no answer
that breaks the schema.

The gateway runs in-process under uvicorn on loopback, on the real NATS and Postgres, with the
real status service beside it (so a store ordered by one case is read, listed and deleted by the
next). Every operation gets positive and negative cases (valid and invalid input), then a
stateful phase follows the schema's links (order a store, then read, list its events or delete
it; make a token, then revoke it; register, then set the new user's quota). Requests carry a real
access token, an admin's in one run and a plain user's in another; logout routes get a fresh
session each, so the fuzzer cannot log itself out. Checks: every one the installed Schemathesis has,
the stateful ones included (use after free, resource availability), so the schema must be exactly as
strict as the server: a schema-valid request accepted, a schema-violating one refused (a list's opaque
`cursor` aside: valid cases send none, since only a cursor the list handed out is valid). The rate
limits are off for the run (one client on one address would only collect 429s).

The webhook routes are answered over the real NATS by `NotifierResponder`, the notifier's fake (which
passes the real notifier's contract, test_gateway_webhooks_contract.py), not by the real notifier: the
fuzzer makes endpoints with whatever URLs it generates (public addresses and names among them), and a
real notifier would resolve them and POST to them, off loopback. The real notifier behind these routes
is tested in test_gateway_webhooks_served.py.

The number of cases is printed; `STOREPLANE_FUZZ_EXAMPLES` (per operation and mode) and
`STOREPLANE_FUZZ_SEED` change how many and which.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, get_args

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Err
from schemathesis.generation.stateful import run_state_machine_as_test

from infra.local.servers import Server
from storeplane_contracts.events import Engine
from storeplane_gateway.__main__ import run_admin
from storeplane_gateway.settings import GatewaySettings
from storeplane_status.bootstrap import bootstrap
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.support import NotifierResponder, served
from tests.unit.gateway.fakes import FakeNotifier
from tests.unit.gateway.helpers import sign_up, sign_up_admin

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("STOREPLANE_FUZZ_EXAMPLES", "25"))
STATEFUL_SCENARIOS = max(1, EXAMPLES)
SEED = int(os.environ.get("STOREPLANE_FUZZ_SEED", random.randrange(1 << 30)))
ADMIN = "fuzz-admin@example.com"
SESSIONS = "fuzz-sessions@example.com"
PASSWORD = "fuzzing is fun"
LOGOUT_PATHS = {"/api/v1/auth/logout", "/api/v1/auth/logout-all"}
load_all_checks()
# Every check the installed Schemathesis has, the stateful ones (use after free, resource availability) included.
CHECKS = [check for check in REGISTERED_CHECKS.get_all() if not isinstance(check, type)]  # functions, for mypy
# Valid bodies each positive run starts with, so that the success paths are reached too.
EXPLICIT_BODIES: dict[str, list[dict[str, Any]]] = {
    "POST /api/v1/stores": [{"name": f"Fuzz Shop {n}", "engine": "woocommerce"} for n in range(3)],
    "POST /api/v1/tokens": [{"name": "fuzz", "scopes": ["stores:read", "stores:write"]}],
    # A loopback address where nothing listens: the fake notifier sends nothing anyway.
    "POST /api/v1/webhooks": [{"url": "http://127.0.0.1:9/hooks", "events": ["*"], "description": "fuzz"}],
    "POST /api/v1/auth/login": [{"email": SESSIONS, "password": PASSWORD}],
    "POST /api/v1/auth/register": [{"email": "fuzz-new@example.com", "password": PASSWORD}],
}
# Schemathesis' generics carry the schema's own types, which these checks never look into.
FuzzCase: TypeAlias = schemathesis.Case[Any]
Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]


@pytest.fixture
async def served_gateway(clean_audit: str, database_url: str, tracing: None, jaeger: Server) -> AsyncIterator[str]:
    """The gateway's base URL: uvicorn on loopback in this process, the status service beside it."""
    settings = GatewaySettings(
        nats_url=clean_audit,
        database_url=database_url,
        # The fuzzer is one client on one address: limits would only turn its cases into 429s.
        auth_requests_per_minute_per_address=0,
        store_creates_per_minute_per_address=0,
        store_creates_per_minute_per_user=0,
        webhook_commands_per_minute_per_user=0,
        webhook_commands_per_minute_per_address=0,
        # Every engine the schema lists, so that a valid order is accepted (positive_data_acceptance).
        installable_engines=get_args(Engine),
        # A real trace backend: without one, a store's trace is a 503 (traces_unavailable), as it should be.
        trace_query_url=jaeger.url,
    )
    status = StatusSettings(nats_url=clean_audit, database_url=database_url, graceful_timeout=5.0)
    # Any target: which addresses may be delivered to (loopback, private, `[::]`, ...) is a rule no schema
    # states, proven by the notifier's own tests; refused, a schema-valid URL would be a positive case
    # rejected. The fake notifier sends nothing, so no address is ever dialled.
    notifier = NotifierResponder(FakeNotifier(max_endpoints=5, allowed_targets=frozenset({"*"})))
    await notifier.start(clean_audit)
    try:
        async with bootstrap(status), served(settings) as base_url:
            yield base_url
    finally:
        await notifier.stop()


@dataclass
class Report:
    """What the fuzzer did and found."""

    cases: Counter[str] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    by_operation: Counter[tuple[str, int]] = field(default_factory=Counter)
    scenarios: int = 0  # stateful scenarios run
    restarts: int = 0  # stateful runs Hypothesis ended on inconsistent generation, and started again

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.cases.items()))
        statuses = " ".join(f"{status}:{count}" for status, count in sorted(self.statuses.items()))
        return (
            f"schemathesis: {self.total} cases ({kinds}) on {len(self.operations)} operations, seed {SEED}; "
            f"{self.scenarios} stateful scenarios ({self.restarts} runs restarted); "
            f"statuses {statuses}; failures {len(self.failures)}"
        )


ALL_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
# Failures are recorded, never raised (see `Fuzzer.check`), so a stateful run has nothing to shrink.
STATEFUL_PHASES = (Phase.explicit, Phase.generate)
STATEFUL_RUNS = 10


def _settings(*, phases: tuple[Phase, ...] = ALL_PHASES, **overrides: Any) -> hypothesis.settings:
    return hypothesis.settings(
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=list(phases),
        **overrides,
    )


@dataclass
class Fuzzer:
    """One caller's fuzzing session against the served gateway, and the report it fills."""

    base_url: str
    caller: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)
    report: Report = field(default_factory=Report)

    def headers_for(self, path: str) -> dict[str, str]:
        """The caller's token; a fresh session for a logout, so that the fuzzer never logs itself out."""
        if path not in LOGOUT_PATHS:
            return self.caller
        credentials = {"email": SESSIONS, "password": PASSWORD}
        login = self.session.post(f"{self.base_url}/api/v1/auth/login", json=credentials)
        if login.status_code != 200:  # the fuzzer guessed at this account's password and got it throttled
            fresh = {"email": f"fuzz-{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD}
            login = self.session.post(f"{self.base_url}/api/v1/auth/register", json=fresh)
        login.raise_for_status()
        return {"Authorization": f"Bearer {login.json()['token']}"}

    def call_kwargs(self, case: FuzzCase) -> dict[str, Any]:
        _without_generated_cursor(case)
        # A negative case that removed or broke the Authorization header is sent as generated: the
        # caller's token over it would make the request valid again, and its 200 a "violation accepted".
        headers = {} if _mutates_authorization(case) else self.headers_for(case.operation.path)
        return {"base_url": self.base_url, "session": self.session, "headers": headers}

    def record(self, case: FuzzCase, kind: str, response: schemathesis.Response) -> None:
        self.report.cases[kind] += 1
        self.report.operations.add(case.operation.label)
        self.report.statuses[response.status_code] += 1
        self.report.by_operation[(f"{case.operation.label} {kind}", response.status_code)] += 1

    def call(self, case: FuzzCase, kind: str) -> None:
        response = case.call(**self.call_kwargs(case))
        self.check(case, kind, response)

    def check(self, case: FuzzCase, kind: str, response: schemathesis.Response) -> None:
        """Record the answer and every check it fails. A failure is recorded where it is found and not
        raised: Hypothesis would replay the case to report it, against a server whose state the
        earlier calls have changed since, and report only that the replay went differently."""
        self.record(case, kind, response)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as exc:  # a FailureGroup is a BaseExceptionGroup
            self.report.failures.append(
                f"{case.operation.label} ({kind}): {_described(exc)}\n  {case.as_curl_command()}"
            )

    def stateless(self, operation: Operation, mode: schemathesis.GenerationMode) -> Callable[[], None]:
        """A Hypothesis test of one operation in one mode, seeded with the explicit bodies when positive."""

        @hypothesis.seed(SEED)
        @_settings(max_examples=EXAMPLES)
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def run(case: FuzzCase) -> None:
            self.call(case, mode.value)

        if mode is schemathesis.GenerationMode.POSITIVE:  # a few valid requests, so that success paths are fuzzed too
            for body in EXPLICIT_BODIES.get(operation.label, []):
                run = hypothesis.example(case=operation.Case(body=body, media_type="application/json"))(run)
        return run

    def fuzz_operations(self, schema: schemathesis.BaseSchema) -> None:
        """The stateless phase: every operation, with valid and with invalid input."""
        for result in schema.get_all_operations():
            if isinstance(result, Err):  # the gateway's own schema does not load: nothing to fuzz it by
                raise result.err()
            operation = result.ok()
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                try:
                    self.stateless(operation, mode)()
                except hypothesis.errors.Unsatisfiable:
                    pass  # nothing negative to generate (no parameters, no body)
                except (Exception, FailureGroup) as exc:  # the fuzzer's own errors (a check's are recorded)
                    self.report.failures.append(f"{operation.label} ({mode.value}): {_described(exc)}")

    def fuzz_workflows(self, schema: schemathesis.BaseSchema) -> None:
        """The stateful phase: sequences of calls that follow the schema's links."""
        base_machine: type[Any] = schema.as_state_machine()
        fuzzer = self
        scenarios = 0

        class Workflow(base_machine):  # type: ignore[misc]  # the base is the state machine built from the schema at run time
            def __init__(self) -> None:
                nonlocal scenarios
                scenarios += 1
                super().__init__()

            def get_call_kwargs(self, case: FuzzCase) -> dict[str, Any]:
                return fuzzer.call_kwargs(case)

            def validate_response(
                self, response: schemathesis.Response, case: FuzzCase, *args: Any, **kwargs: Any
            ) -> None:
                fuzzer.check(case, "stateful", response)

        # A scenario's next call follows what the server answered before, so Hypothesis may find that
        # the same choices drew differently and stop the run ("Inconsistent data generation"); as
        # Schemathesis' own runner does, that ends the run, not the phase: another run goes on until
        # enough scenarios ran. The checks' failures were recorded when found, so none is lost with it.
        for attempt in range(STATEFUL_RUNS):
            if scenarios >= STATEFUL_SCENARIOS:
                break
            settings = _settings(
                max_examples=STATEFUL_SCENARIOS - scenarios, stateful_step_count=6, phases=STATEFUL_PHASES
            )
            try:
                run_state_machine_as_test(hypothesis.seed(SEED + attempt)(Workflow), settings=settings)
            except hypothesis.errors.FlakyStrategyDefinition:
                self.report.restarts += 1
            except (Exception, FailureGroup) as exc:  # the fuzzer's own errors (a check's are recorded)
                self.report.failures.append(f"stateful: {_described(exc)}")
                break
        self.report.scenarios = scenarios


def _without_generated_cursor(case: FuzzCase) -> None:
    """A list's `cursor` is opaque: only one the list handed out is valid, and no generator makes one, so a
    valid case sends none (a generated one is rightly 400 `invalid_cursor`); invalid cases keep theirs."""
    mode = case.meta.generation.mode if case.meta is not None else None
    if mode is not schemathesis.GenerationMode.NEGATIVE and case.query and "cursor" in case.query:
        del case.query["cursor"]


def _mutates_authorization(case: FuzzCase) -> bool:
    """Whether Schemathesis made this case invalid through its Authorization header."""
    data = case.meta.phase.data if case.meta is not None else None
    for change in [data, *getattr(data, "mutations", ())]:
        names = {str(getattr(change, attribute, None)).lower() for attribute in ("parameter", "original_value")}
        if getattr(change, "parameter_location", None) is ParameterLocation.HEADER and "authorization" in names:
            return True
    return False


def _described(exc: BaseException) -> str:
    """The failure and what it holds (a FailureGroup holds one failure per check)."""
    inner = [_described(sub) for sub in getattr(exc, "exceptions", ())]
    if exc.__cause__ is not None:
        inner.append(_described(exc.__cause__))
    return "\n".join([str(exc), *(f"  caused by: {text}" for text in inner)])


def fuzz(raw_schema: dict[str, Any], base_url: str, token: str) -> Report:
    """Run the stateless and the stateful phase (blocking: it runs in a worker thread)."""
    # The event streams never end, and a fuzzer's call reads its answer to the end: they have tests of their
    # own over real HTTP (test_gateway_streams_served.py), refusals included.
    schema = schemathesis.openapi.from_dict(raw_schema).exclude(path_regex=r"/stream$")
    fuzzer = Fuzzer(base_url, {"Authorization": f"Bearer {token}"})
    fuzzer.fuzz_operations(schema)
    fuzzer.fuzz_workflows(schema)
    return fuzzer.report


# The gateway serves in this process: its trace ids come from the global `random` (OpenTelemetry's id
# generator) while the fuzzer's thread draws a case, which Hypothesis takes for a strategy using it.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@pytest.mark.parametrize("role", ["admin", "user"])
async def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    served_gateway: str, database_url: str, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    """As an admin (every route answers), and as a plain user (admin routes refuse, through other code)."""

    async def grant(email: str) -> None:
        assert await run_admin(GatewaySettings(database_url=database_url), "grant", email) == 0

    async with httpx.AsyncClient(base_url=served_gateway, timeout=30) as client:
        if role == "admin":
            caller = await sign_up_admin(client, grant, ADMIN, PASSWORD)
        else:
            caller = await sign_up(client, ADMIN, PASSWORD)
        await sign_up(client, SESSIONS, PASSWORD)
        raw_schema = (await client.get("/schema/openapi.json")).json()

    started = time.monotonic()
    report = await asyncio.to_thread(fuzz, raw_schema, served_gateway, caller.token)
    with capsys.disabled():
        print(f"\n{role}: {report.summary()} in {time.monotonic() - started:.1f} s")
    statuses = "\n".join(
        f"  {label}: {status} x{count}" for (label, status), count in sorted(report.by_operation.items())
    )
    assert not report.failures, "\n\n".join(report.failures) + "\n\nstatuses by operation:\n" + statuses
    assert report.cases["positive"] and report.cases["negative"] and report.cases["stateful"]
    assert report.scenarios >= STATEFUL_SCENARIOS, f"only {report.scenarios} stateful scenarios ran"
    assert report.statuses[202] and report.statuses[200]  # stores were ordered and read, not only refused
    if role == "user":
        assert report.statuses[403]  # the admin routes refused
    webhooks = {status for (label, status) in report.by_operation if "POST /api/v1/webhooks " in label}
    # Endpoints were made, and invalid values refused (400 for a body of the wrong shape, 422 for a value
    # the notifier's rules refuse: which of the two a seed's negative cases meet is the seed's choice).
    assert 201 in webhooks and webhooks & {400, 422}, webhooks
