"""Exit statuses: 2 for usage errors (Click's own, and 400/422 answers), 1 for refusals and failures,
with the API's message and code on standard error; nothing is sent for a command that cannot run."""

from __future__ import annotations

import io

import httpx
import pytest

from storeplane_cli.app import run
from storeplane_cli.errors import FAILED, OK, USAGE, ApiError

UNREACHABLE = "http://127.0.0.2:9"  # loopback, nothing listens: a request would fail, not leave the machine


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        (422, "invalid_name", USAGE),
        (400, "invalid_body", USAGE),
        (403, "store_quota_exceeded", FAILED),
        (404, "store_not_found", FAILED),
        (503, "bus_unavailable", FAILED),
    ],
)
def test_api_errors_carry_message_code_and_exit_status(status: int, code: str, exit_code: int) -> None:
    error = ApiError.of(answer(status, {"error": {"code": code, "message": "what to fix"}}, {"Retry-After": "2"}))
    assert (error.status, error.code, error.api_message, error.exit_code) == (status, code, "what to fix", exit_code)
    assert error.message == f"what to fix ({code})"
    assert error.retry_after == 2.0


def test_an_answer_that_is_not_the_error_shape_still_explains_itself() -> None:
    error = ApiError.of(httpx.Response(502, text="<html>bad gateway</html>"))
    assert error.code == "http_502" and error.exit_code == FAILED


def test_an_unknown_engine_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--api", UNREACHABLE, "stores", "create", "my-shop", "--engine", "magento"]) == USAGE
    assert "magento" in capsys.readouterr().err


def test_a_missing_argument_is_a_usage_error() -> None:
    assert run(["stores", "get"]) == USAGE


def test_an_unknown_context_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--context", "staging", "stores", "list"]) == USAGE
    assert "No context named 'staging'" in capsys.readouterr().err


def test_a_command_without_credentials_fails_before_sending_anything(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--api", UNREACHABLE, "stores", "list"]) == FAILED
    assert "storeplane login" in capsys.readouterr().err


def test_an_unreachable_api_is_a_failure_with_a_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert run(["--api", UNREACHABLE, "login", "--email", "a@example.com", "--password-stdin"]) == FAILED
    assert "Error: cannot reach the API" in capsys.readouterr().err


def test_contexts_are_added_used_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["context", "add", "local", "--api", "http://127.0.0.1:8080/", "--use"]) == OK
    assert run(["context", "add", "bad", "--api", "ftp://x"]) == USAGE
    assert run(["context", "list"]) == OK
    out = capsys.readouterr().out
    assert "*  local    http://127.0.0.1:8080" in out
    assert run(["context", "rm", "local"]) == USAGE  # the current one


def test_shell_completion_is_offered(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--show-completion", "bash"]) == OK
    out = capsys.readouterr().out
    assert "_storeplane_completion" in out and "complete " in out
