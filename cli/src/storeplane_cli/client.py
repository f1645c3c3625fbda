"""The CLI's HTTP session with the gateway: the bearer token, its automatic refresh, error answers
turned into `ApiError`, and commands retried safely under one `Idempotency-Key`.

A session's access token is short-lived: it is refreshed before it expires (and once more on a 401),
and the new pair saved at once, because each refresh token works only once. A file lock keeps two
CLI processes from spending the same refresh token (which would end the session).
"""

from __future__ import annotations

import fcntl
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from storeplane_cli.config import Credentials, config_dir, load_credentials, save_credentials
from storeplane_cli.errors import ApiError, CliError

REFRESH_MARGIN_SECONDS = 30.0
# How long one command keeps retrying a 503, a lost connection or a request still in flight.
COMMAND_PATIENCE_SECONDS = 60.0
_RETRYABLE = frozenset({503})


def session_from_body(body: dict[str, Any], email: str = "") -> Credentials:
    """The credentials in a register, login or refresh answer."""
    return Credentials(
        token=str(body["token"]),
        kind="session",
        email=email or str(body.get("user", {}).get("email", "")),
        refresh_token=str(body["refresh_token"]),
        expires_at=time.time() + float(body.get("expires_in", 0)),
    )


@contextmanager
def _refresh_lock() -> Iterator[None]:
    config_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    with (config_dir() / ".refresh.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# The most a page of the API's lists holds (docs/api.md, "Pages").
MAX_PAGE = 200


class Client:
    """Authenticated calls to one gateway."""

    def __init__(self, api: str, *, http: httpx.Client | None = None, timeout: float = 30.0) -> None:
        self.api = api
        self.http = http or httpx.Client(base_url=api, timeout=timeout)
        self.credentials = load_credentials(api)

    def close(self) -> None:
        self.http.close()

    def _needs_refresh(self) -> bool:
        c = self.credentials
        return bool(c and c.kind == "session" and c.expires_at and c.expires_at - REFRESH_MARGIN_SECONDS < time.time())

    def refresh(self) -> None:
        """New tokens for the saved refresh token; a session that ended means logging in again."""
        with _refresh_lock():
            saved = load_credentials(self.api)
            if saved and self.credentials and saved.token != self.credentials.token:
                self.credentials = saved  # another process refreshed it meanwhile
                return
            current = self.credentials
            if current is None or not current.refresh_token:
                raise CliError("Not logged in: run `storeplane login`.")
            answer = self.http.post("/api/v1/auth/refresh", json={"refresh_token": current.refresh_token})
            if answer.status_code != httpx.codes.OK:
                save_credentials(self.api, None)
                self.credentials = None
                raise CliError(f"Your session ended ({ApiError.of(answer).code}): run `storeplane login` again.")
            self.credentials = session_from_body(answer.json(), current.email)
            save_credentials(self.api, self.credentials)

    def auth_headers(self) -> dict[str, str]:
        if self.credentials is None:
            raise CliError(f"Not logged in to {self.api}: run `storeplane login`.")
        if self._needs_refresh():
            self.refresh()
        assert self.credentials is not None
        return {"Authorization": f"Bearer {self.credentials.token}"}

    def send(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """One authenticated request (refreshed and sent again once on a 401); any error answer raises."""
        response = self.http.request(method, path, headers={**self.auth_headers(), **(headers or {})}, **kwargs)
        if response.status_code == httpx.codes.UNAUTHORIZED and self._can_refresh():
            self.refresh()
            response = self.http.request(method, path, headers={**self.auth_headers(), **(headers or {})}, **kwargs)
        if response.is_error:
            raise ApiError.of(response)
        return response

    def _can_refresh(self) -> bool:
        return bool(self.credentials and self.credentials.kind == "session" and self.credentials.refresh_token)

    def post_public(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A route that needs no token (log in)."""
        response = self.http.post(path, json=body)
        if response.is_error:
            raise ApiError.of(response)
        answer: dict[str, Any] = response.json()
        return answer

    def adopt(self, credentials: Credentials | None) -> None:
        """Use (and save, or with None forget) these credentials for this API."""
        self.credentials = credentials
        save_credentials(self.api, credentials)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.send("GET", path, **kwargs).json()

    def every(self, path: str, key: str, *, params: dict[str, str] | None = None) -> list[Any]:
        """Every item of a paged list (the answer's `key`), following each page's `next` to the last."""
        found: list[Any] = []
        url: str | None = path
        query: dict[str, str] | None = {"limit": str(MAX_PAGE), **(params or {})}
        while url is not None:
            body = self.get(url, params=query)
            found += body[key]
            url, query = body.get("next"), None  # `next` holds the filters and the limit
        return found

    def command(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        """A create, delete or retry: one `Idempotency-Key` for this invocation, so resending it after
        a 503, a lost connection or while the first attempt still runs never does it twice."""
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        deadline = time.monotonic() + COMMAND_PATIENCE_SECONDS
        while True:
            try:
                return self.send(method, path, headers=headers, **kwargs)
            except ApiError as error:
                if not _worth_retrying(error) or time.monotonic() > deadline:
                    raise
                time.sleep(min(error.retry_after or 1.0, 5.0))
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)


def _worth_retrying(error: ApiError) -> bool:
    return error.status in _RETRYABLE or error.code == "idempotency_key_in_use"
