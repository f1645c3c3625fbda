"""A logged traceback never shows the frames' local variables (where a request's password sits)."""

from __future__ import annotations

import pytest
import structlog

from storeplane_runtime.logs import setup_logging

SECRET = "hunter2-secret-in-a-local"


def _fail_holding_a_secret() -> None:
    password = SECRET
    raise ValueError(f"refused ({len(password)} characters)")


@pytest.mark.parametrize("json", [False, True])
def test_a_logged_exception_shows_no_local_variable(json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", json=json)
    try:
        _fail_holding_a_secret()
    except ValueError:
        structlog.get_logger("test").exception("failed")
    structlog.reset_defaults()
    output = capsys.readouterr()
    logged = output.out + output.err
    assert "_fail_holding_a_secret" in logged  # the traceback is there...
    assert SECRET not in logged  # ...without the frame's locals
