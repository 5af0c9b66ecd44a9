"""Numbers typed into forms and query strings, read as a patient means them.

Only the digits 0-9 as typed on a keyboard, and at most twelve of them before and after
the point (a time stamp in seconds has ten). Python's int() and float() would also read
"1_0", "٤٠" or "nan"; str.isdigit() accepts "²", which int() then refuses; int() refuses
more than 4,300 digits, and float() turns 400 nines into infinity. None of those is a number
anyone means, and each of them reaching int() or float() was a 500 instead of a message
beside the field.
"""

from __future__ import annotations

import re

_WHOLE = re.compile(r"-?[0-9]{1,12}")
_COUNT = re.compile(r"[0-9]{1,12}")
_DECIMAL = re.compile(r"[0-9]{0,12}[.,]?[0-9]{1,12}")


def plain_number(text: str) -> float | None:
    """A number typed as 1.5, 1,5 or .5; None for anything else."""
    return float(text.replace(",", ".")) if _DECIMAL.fullmatch(text) else None


def whole_number(text: str) -> int | None:
    """A whole number, perhaps negative (a range check then says what is allowed); None for
    anything else."""
    return int(text) if _WHOLE.fullmatch(text) else None


def count(text: str) -> int | None:
    """A whole number of days, rows or seconds: 0 or more; None for anything else."""
    return int(text) if _COUNT.fullmatch(text) else None
