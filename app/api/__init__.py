"""The JSON API (/api/v1): thin handlers over app/services, bearer-token auth."""

from fastapi import APIRouter

from app.api import (
    account,
    auth,
    backup,
    comparison,
    dose_plan,
    dose_steps,
    entries,
    items,
    reminders,
    report,
    revisions,
    share_links,
)
from app.trials import api as self_trials

router = APIRouter(prefix="/api/v1")
router.include_router(auth.router)
router.include_router(entries.router)
router.include_router(dose_steps.router)
router.include_router(dose_plan.router)
router.include_router(reminders.router)
router.include_router(items.router)
router.include_router(comparison.router)
router.include_router(report.router)
router.include_router(share_links.router)
router.include_router(revisions.router)
router.include_router(backup.router)
router.include_router(account.router)
router.include_router(self_trials.router)
