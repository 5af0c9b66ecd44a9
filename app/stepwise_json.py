"""JSON decoding of large uploads that never holds the interpreter for long.

`json.loads` of a 9 MB backup is one call into C that keeps Python's interpreter lock for
tens of milliseconds: the event loop and every other request stand still meanwhile, even when
the decoding runs in a worker thread. `loads` here gives the same result and the same errors,
but decodes the elements of the top-level object's arrays (a backup's days and kept versions)
one at a time, so the interpreter can turn to other threads between them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
# A \uD800–\uDFFF escape: the only way a JSON text in UTF-8 can carry a surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Containers this deep are decoded element by element; deeper ones in one call.
_STEPWISE_DEPTH = 2


def loads(text: str) -> Any:
    """`json.loads(text)`: the same value, or the same JSONDecodeError (a ValueError)."""
    value, end = _decode(text, 0, _STEPWISE_DEPTH)
    end = _skip_space(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def may_hold_surrogates(raw: bytes) -> bool:
    """False when the JSON text `raw` cannot decode to a string with a surrogate character
    (which no page, file or database can store); True when `has_surrogates` must look."""
    return _SURROGATE_ESCAPE.search(raw) is not None


def has_surrogates(value: Any) -> bool:
    """Whether any string in the decoded JSON `value` (keys too) holds a surrogate."""
    for text in _strings(value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def _strings(value: Any) -> Iterator[str]:
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            yield current
        elif isinstance(current, dict):
            yield from current.keys()
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)


def _skip_space(text: str, index: int) -> int:
    found = _SPACE.match(text, index)
    assert found is not None  # the pattern matches the empty string
    return found.end()


def _decode(text: str, index: int, depth: int) -> tuple[Any, int]:
    """The JSON value at `index` (after any spaces) and the index after it."""
    index = _skip_space(text, index)
    opening = text[index : index + 1]
    if depth == 0 or opening not in ("[", "{"):
        return _DECODER.raw_decode(text, index)
    is_object = opening == "{"
    closing = "}" if is_object else "]"
    container: Any = {} if is_object else []
    index = _skip_space(text, index + 1)
    if text.startswith(closing, index):
        return container, index + 1
    while True:
        if is_object:
            if not text.startswith('"', index):
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, index
                )
            key, index = _DECODER.raw_decode(text, index)
            index = _skip_space(text, index)
            if not text.startswith(":", index):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
            container[key], index = _decode(text, index + 1, depth - 1)
        else:
            value, index = _decode(text, index, depth - 1)
            container.append(value)
        index = _skip_space(text, index)
        if text.startswith(",", index):
            index = _skip_space(text, index + 1)
        elif text.startswith(closing, index):
            return container, index + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
