"""How results are printed: tables for people, the API's JSON unchanged for programs, YAML.

Whether standard output is a terminal decides the rest: on a terminal, Rich tables and colour;
otherwise plain aligned columns with no colour and no escape codes, so scripts can read them.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Sequence
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table


class Format(enum.StrEnum):
    """The `-o` choices."""

    table = "table"
    json = "json"
    yaml = "yaml"


def is_terminal() -> bool:
    return sys.stdout.isatty()


def console() -> Console:
    """Standard output: colour and live displays on a terminal only."""
    terminal = is_terminal()
    return Console(no_color=not terminal, highlight=False, soft_wrap=not terminal)


def errors() -> Console:
    return Console(stderr=True, no_color=not sys.stderr.isatty(), highlight=False, soft_wrap=True)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, as `kubectl get` prints them."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if not is_terminal():
        print(plain_table(headers, rows))
        return
    table = Table(*headers, header_style="bold")
    for row in rows:
        table.add_row(*row)
    console().print(table)


def print_document(raw_json: str, fmt: Format) -> None:
    """An API answer as JSON (its text unchanged) or YAML."""
    if fmt is Format.json:
        print(raw_json)
    else:
        print(yaml.safe_dump(json.loads(raw_json), sort_keys=False, allow_unicode=True), end="")


def print_fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """`key: value` lines, the keys aligned."""
    width = max((len(key) for key, _ in pairs), default=0)
    for key, value in pairs:
        print(f"{key.ljust(width)}  {'' if value is None else value}")
