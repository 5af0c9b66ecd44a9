"""The pharmacy sheet (SPEC §14): bottle labels by period, which hold LDN, the unblinding code.

The only document that names the allocation before unblinding. It is made from the code
(which opens the sealed order) and exists only as the PDF response: no copy is stored, and the
response says `Cache-Control: no-store`. Rendered like the doctor's summary (app/pdf.py), with
the same offline URL fetcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from weasyprint import HTML

from app.models import SelfTrial
from app.pdf import DOCUMENT_ORIGIN, StaticFilesOnly
from app.services.dose_steps import format_day, format_mg
from app.trials import blinding
from app.trials.design import Period, ldn_periods
from app.trials.service import end_date, trial_periods


@dataclass(frozen=True)
class SheetRow:
    period: Period
    holds: str  # "LDN 4.5 mg" or "Placebo (identical capsules)"


def sheet_rows(trial: SelfTrial, code: str) -> tuple[SheetRow, ...]:
    order = blinding.unseal(
        blinding.SealedAllocation(
            salt=trial.seal_salt, sealed=trial.sealed_allocation, check=trial.code_check
        ),
        code,
    )
    ldn = set(ldn_periods(order))
    dose = "LDN" if trial.ldn_dose_mg is None else f"LDN {format_mg(trial.ldn_dose_mg)}"
    return tuple(
        SheetRow(period, dose if period.number in ldn else "Placebo (identical capsules)")
        for period in trial_periods(trial)
    )


def pharmacy_sheet_pdf(trial: SelfTrial, code: str, *, today: date) -> bytes:
    """The sheet for the pharmacist as an A4 PDF."""
    from app.web.templating import STATIC_VERSION, templates

    html = templates.env.get_template("trials/pharmacy_sheet.html").render(
        trial=trial,
        rows=sheet_rows(trial, code),
        code=blinding.format_code(code),
        end=end_date(trial),
        made_on=today,
        format_day=format_day,
        static_version=STATIC_VERSION,
    )
    document = HTML(string=html, base_url=f"{DOCUMENT_ORIGIN}/", url_fetcher=StaticFilesOnly())
    pdf = document.write_pdf(pdf_tags=True)
    assert pdf is not None
    return pdf
