"""Output for programs and pipes: `-o json` is the API's text unchanged, YAML is the same data,
tables off a terminal are plain aligned columns with no escape codes."""

from __future__ import annotations

import json

import pytest
import yaml

from storeplane_cli.output import Format, plain_table, print_document, print_table

RAW = '{"stores":[{"id":"1","name":"my-shop","urls":{}}],  "z":1}'


def test_json_is_the_api_answer_byte_for_byte(capsys: pytest.CaptureFixture[str]) -> None:
    print_document(RAW, Format.json)
    assert capsys.readouterr().out == RAW + "\n"


def test_yaml_is_the_same_document_in_its_order(capsys: pytest.CaptureFixture[str]) -> None:
    print_document(RAW, Format.yaml)
    out = capsys.readouterr().out
    assert yaml.safe_load(out) == json.loads(RAW)
    assert out.index("stores") < out.index("z:")


def test_plain_tables_align_columns_two_spaces_apart() -> None:
    table = plain_table(["ID", "NAME"], [["1", "my-shop"], ["22", "x"]])
    assert table.splitlines() == ["ID  NAME", "1   my-shop", "22  x"]


def test_tables_off_a_terminal_have_no_escape_codes_or_box_drawing(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(["ID", "STATUS"], [["1", "ready"]])
    out = capsys.readouterr().out
    assert out == "ID  STATUS\n1   ready\n"
    assert "\x1b" not in out and "│" not in out
