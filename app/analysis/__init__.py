"""Pure computation behind the comparison tables: plain data in, plain data out, no I/O."""

from app.analysis.comparison import (
    DEFAULT_SETTLE_DAYS,
    METHOD_TEXT,
    MIN_DAYS_FOR_VERDICT,
    RESPONDER_PAIN_IMPROVEMENT_PCT,
    RESPONDER_RULE_TEXT,
    Band,
    Comparison,
    ItemStats,
    SideEffectStats,
    StepComparison,
    Verdict,
    band_for,
    compare_steps,
    method_text,
)
from app.analysis.intervals import MeanDifference, fit_ar1_reml, mean_difference_intervals
from app.analysis.types import DayRecord, StepInput

__all__ = [
    "DEFAULT_SETTLE_DAYS",
    "METHOD_TEXT",
    "MIN_DAYS_FOR_VERDICT",
    "RESPONDER_PAIN_IMPROVEMENT_PCT",
    "RESPONDER_RULE_TEXT",
    "Band",
    "Comparison",
    "DayRecord",
    "ItemStats",
    "MeanDifference",
    "SideEffectStats",
    "StepComparison",
    "StepInput",
    "Verdict",
    "band_for",
    "compare_steps",
    "fit_ar1_reml",
    "mean_difference_intervals",
    "method_text",
]
