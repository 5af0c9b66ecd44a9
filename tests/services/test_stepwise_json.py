"""The backup reader's JSON decoder: the same answers as json.loads, never one long call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import stepwise_json
from app.services import backup

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=25,
)


def _outcome(decode: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", decode(text)
    except json.JSONDecodeError as error:
        return "error", (error.msg, error.pos)
    except RecursionError:
        return "error", "recursion"


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]))
def test_any_json_decodes_to_what_json_loads_gives(value: Any, indent: int | None):
    text = json.dumps(value, indent=indent)
    assert stepwise_json.loads(text) == json.loads(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='{}[],:" \n01-.etruanlfsxE\\', max_size=30))
def test_any_text_gets_the_same_value_or_the_same_error_as_json_loads(text: str):
    assert _outcome(stepwise_json.loads, text) == _outcome(json.loads, text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "{",
        "[1,]",
        '{"a": 1,}',
        '{"a" 1}',
        '{"a": [1, 2}',
        "{1: 2}",
        '{"a": 1} x',
        "[1] [2]",
        '{"a": [{"b": [1, 2, 3]}, {"c": {"d": [true]}}], "e": "\\u00e9"}',
        ' {"entries": [ {"date": "2026-01-01"} , {"date": "2026-01-02"} ] } ',
        '{"a": 1, "a": 2}',
        "[NaN, Infinity]",
    ],
)
def test_edge_cases_match_json_loads(text: str):
    assert _outcome(stepwise_json.loads, text) == _outcome(json.loads, text)


def test_a_nine_megabyte_backup_is_decoded_in_small_calls(monkeypatch: pytest.MonkeyPatch):
    """No single call into the C decoder covers more than one row of the file, so the
    interpreter is never held for the whole file (tens of milliseconds) at once."""
    note = "Slept badly, walked to the shop. " * 50
    document = {
        "format": "ldn-diary-backup",
        "version": 1,
        "entries": [{"date": f"2026-01-{day % 28 + 1:02d}", "notes": note} for day in range(4000)],
        "revisions": [{"date": "2026-01-01", "data": {"notes": note}}] * 1400,
    }
    raw = json.dumps(document).encode()
    assert 9_000_000 < len(raw) < backup.MAX_IMPORT_BYTES
    spans: list[int] = []
    real = stepwise_json._DECODER.raw_decode

    def measured(text: str, index: int = 0) -> tuple[Any, int]:
        value, end = real(text, index)
        spans.append(end - index)
        return value, end

    monkeypatch.setattr(stepwise_json._DECODER, "raw_decode", measured)
    assert backup.read_document(raw) == document
    assert max(spans) < 5_000


def test_a_lone_surrogate_anywhere_is_refused_and_a_pair_is_kept():
    assert not stepwise_json.may_hold_surrogates(b'{"notes": "caf\\u00e9 \xc3\xa9"}')
    paired = b'{"notes": "\\ud83d\\ude00"}'
    assert stepwise_json.may_hold_surrogates(paired)
    assert backup.read_document(paired) == {"notes": "\U0001f600"}
    for lone in (b'{"a": ["\\ud800"]}', b'{"\\udfff": 1}', b'[{"a": {"b": "x\\uDBFFy"}}]'):
        with pytest.raises(backup.ImportRefused):
            backup.read_document(lone)
