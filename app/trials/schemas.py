"""Request shapes of the self-trial API (SPEC §14); the web forms build the same models."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas import EARLIEST_DIARY_DAY, DoseMg, StrictBool
from app.trials.design import (
    DEFAULT_PAIRS,
    DEFAULT_PERIOD_DAYS,
    DEFAULT_SETTLE_DAYS,
    MAX_PAIRS,
    MAX_PERIOD_DAYS,
    MAX_SETTLE_DAYS,
    MIN_PAIRS,
    MIN_PERIOD_DAYS,
    START_WITHIN_DAYS,
)

GuessChoice = Literal["ldn", "placebo", "unsure"]


class SelfTrialCreate(BaseModel):
    """A new trial: its shape, and what the patient preregisters."""

    model_config = ConfigDict(extra="forbid")

    start_date: date = Field(description="The first day of period 1 (tomorrow at the earliest)")
    pairs: Annotated[int, Field(strict=True, ge=MIN_PAIRS, le=MAX_PAIRS)] = DEFAULT_PAIRS
    period_days: Annotated[int, Field(strict=True, ge=MIN_PERIOD_DAYS, le=MAX_PERIOD_DAYS)] = (
        DEFAULT_PERIOD_DAYS
    )
    settle_days: Annotated[int, Field(strict=True, ge=0, le=MAX_SETTLE_DAYS)] = DEFAULT_SETTLE_DAYS
    primary_item: str = Field(default="pain", max_length=64)
    meaningful_change: Annotated[int, Field(strict=True, ge=1, le=100)] = Field(
        description="Points on the 0–100 scale that would matter to the patient"
    )
    ldn_dose_mg: DoseMg | None = Field(default=None, description="The dose in the LDN capsules")
    already_on_ldn: StrictBool = True


class PreregistrationUpdate(BaseModel):
    """Change the preregistration before the first period starts."""

    model_config = ConfigDict(extra="forbid")

    primary_item: str | None = Field(default=None, max_length=64)
    meaningful_change: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None


class GuessCreate(BaseModel):
    """The patient's guess at the end of a period: LDN, placebo or don't know."""

    model_config = ConfigDict(extra="forbid")

    period: Annotated[int, Field(strict=True, ge=1, le=2 * MAX_PAIRS)]
    guess: GuessChoice


class UnblindRequest(BaseModel):
    """The code printed on the pharmacy sheet."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40)


Hex = Annotated[str, Field(pattern=r"^[0-9a-f]+$", max_length=128)]


class BackupSelfTrial(BaseModel):
    """A trial in the JSON backup: its design, guesses and the allocation *sealed*.

    The code that opens it is not in the backup (nor anywhere in the app), so a backup of a
    blinded trial stays blind; `ldn_periods` appears only for a trial already unblinded.
    """

    model_config = ConfigDict(extra="forbid")

    start_date: date
    pairs: Annotated[int, Field(strict=True, ge=MIN_PAIRS, le=MAX_PAIRS)]
    period_days: Annotated[int, Field(strict=True, ge=MIN_PERIOD_DAYS, le=MAX_PERIOD_DAYS)]
    settle_days: Annotated[int, Field(strict=True, ge=0, le=MAX_SETTLE_DAYS)]
    ldn_dose_mg: DoseMg | None = None
    already_on_ldn: StrictBool
    primary_item: str = Field(max_length=64)
    meaningful_change: Annotated[int, Field(strict=True, ge=1, le=100)]
    seal_salt: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    sealed_allocation: Hex
    code_check: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    guesses: dict[Annotated[str, Field(pattern=r"^[1-9][0-9]?$")], GuessChoice] = {}
    unblinded_on: date | None = None
    unblinded_at: datetime | None = None
    ended_early: StrictBool = False
    ldn_periods: Annotated[str, Field(pattern=r"^[0-9]{1,2}(,[0-9]{1,2}){0,15}$")] | None = None

    @field_validator("start_date", "unblinded_on")
    @classmethod
    def _plausible_day(cls, value: date | None) -> date | None:
        # As a trial set up in the app could have: a crafted start in year 9999 left its
        # last period past the calendar's end, and every page that showed it a 500.
        if value is None:
            return None
        if value < EARLIEST_DIARY_DAY:
            raise ValueError("The date must be in the year 2000 or later")
        if value > date.today() + timedelta(days=START_WITHIN_DAYS + 1):
            raise ValueError("The date must be within a year from today")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BackupSelfTrial:
        if len(self.sealed_allocation) != 2 * self.pairs:
            raise ValueError("sealed_allocation must hold one byte per pair")
        if (self.unblinded_on is None) != (self.ldn_periods is None):
            raise ValueError("ldn_periods and unblinded_on come together (an unblinded trial)")
        if any(int(number) > 2 * self.pairs for number in self.guesses):
            raise ValueError("a guess names a period the trial does not have")
        return self
