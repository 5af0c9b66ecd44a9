"""The shape of a blinded self-trial (SPEC §14): pairs of periods, their dates, the order drawn.

Each pair holds one LDN and one placebo period in an order drawn at random (a fair coin per
pair), so slow natural change hits both arms alike. The first `settle_days` of every period
are left out of the analysis, as §4 leaves out a dose step's settling-in: an effect (or its
wearing off) takes a few days to come and go.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

MIN_PAIRS: Final = 2
MAX_PAIRS: Final = 8
DEFAULT_PAIRS: Final = 3
MIN_PERIOD_DAYS: Final = 14
MAX_PERIOD_DAYS: Final = 42
DEFAULT_PERIOD_DAYS: Final = 21
DEFAULT_SETTLE_DAYS: Final = 3
MAX_SETTLE_DAYS: Final = 14
# At least this many days of every period are analysed, whatever the settle days.
MIN_COUNTED_DAYS: Final = 7
# A trial starts within this many days from the day it is set up.
START_WITHIN_DAYS: Final = 366
# The usual threshold a single result is held to; the set-up page says how many pairs reach it.
CONVENTIONAL_ALPHA: Final = 0.05


@dataclass(frozen=True)
class Period:
    """One period: which bottle, which dates, from which day it counts."""

    number: int  # 1 … 2k, the bottle label
    pair: int  # 1 … k
    start: date
    end: date
    counted_from: date  # first day after the settle days

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def periods(start: date, *, pairs: int, period_days: int, settle_days: int) -> tuple[Period, ...]:
    """The trial's 2k periods in calendar order."""
    return tuple(
        Period(
            number=index + 1,
            pair=index // 2 + 1,
            start=start + timedelta(days=index * period_days),
            end=start + timedelta(days=(index + 1) * period_days - 1),
            counted_from=start + timedelta(days=index * period_days + settle_days),
        )
        for index in range(2 * pairs)
    )


def draw_order(pairs: int, coin: Callable[[], bool] | None = None) -> tuple[bool, ...]:
    """Per pair, True when LDN comes first: a fair, independent coin per pair."""
    flip = coin or (lambda: secrets.randbits(1) == 1)
    return tuple(flip() for _ in range(pairs))


def ldn_periods(ldn_first: tuple[bool, ...]) -> tuple[int, ...]:
    """The period numbers (bottle labels) that hold LDN."""
    return tuple(2 * pair + (1 if first else 2) for pair, first in enumerate(ldn_first))


def smallest_p(pairs: int, *, two_sided: bool = False) -> float:
    """The smallest p the randomisation test can give with this many pairs: 1 / 2^k. Twice
    that for an item without a better direction: the test then looks both ways, and the order
    drawn and its mirror image (every coin flipped) give the same difference, with the sign
    turned."""
    return (2.0 if two_sided else 1.0) / 2**pairs


def pairs_for_alpha(alpha: float = CONVENTIONAL_ALPHA, *, two_sided: bool = False) -> int:
    """How many pairs a p at or under `alpha` needs at the least."""
    pairs = 1
    while smallest_p(pairs, two_sided=two_sided) > alpha:
        pairs += 1
    return pairs


def design_problems(
    *, pairs: int, period_days: int, settle_days: int, start: date, today: date
) -> dict[str, str]:
    """Why these numbers cannot make a trial, by field name; empty when they can."""
    problems: dict[str, str] = {}
    if not MIN_PAIRS <= pairs <= MAX_PAIRS:
        problems["pairs"] = f"Choose between {MIN_PAIRS} and {MAX_PAIRS} pairs of periods."
    if not MIN_PERIOD_DAYS <= period_days <= MAX_PERIOD_DAYS:
        problems["period_days"] = (
            f"A period lasts between {MIN_PERIOD_DAYS} and {MAX_PERIOD_DAYS} days."
        )
    if not 0 <= settle_days <= MAX_SETTLE_DAYS:
        problems["settle_days"] = f"Settle days are between 0 and {MAX_SETTLE_DAYS}."
    elif "period_days" not in problems and period_days - settle_days < MIN_COUNTED_DAYS:
        problems["settle_days"] = (
            f"Leave at least {MIN_COUNTED_DAYS} days of each period after the settle days."
        )
    if start <= today:
        problems["start_date"] = (
            "The first period starts tomorrow at the earliest: the pharmacy needs the sheet "
            "before it can fill the bottles."
        )
    elif start > today + timedelta(days=START_WITHIN_DAYS):
        problems["start_date"] = "Start within a year from today."
    return problems
