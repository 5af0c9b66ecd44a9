"""HTML pages, one router per feature. Every state change needs the page's CSRF token."""

from fastapi import APIRouter, Depends

from app.security import require_csrf
from app.trials import web as self_trial
from app.web import (
    api_docs,
    auth,
    calendar,
    doses,
    entries,
    home,
    insight,
    items,
    pwa,
    reminders,
    report,
    revisions,
    settings,
    shared,
)

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
router.include_router(home.router)
router.include_router(auth.router)
router.include_router(entries.router)
router.include_router(revisions.router)
router.include_router(doses.router)
router.include_router(insight.router)
router.include_router(report.router)
router.include_router(shared.router)
router.include_router(api_docs.router)
router.include_router(pwa.router)
router.include_router(reminders.router)
router.include_router(items.router)
router.include_router(settings.router)
router.include_router(calendar.router)
router.include_router(self_trial.router)
