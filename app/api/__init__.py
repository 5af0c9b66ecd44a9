"""The JSON API (/api/v1): thin handlers over app/services, bearer-token auth."""

from fastapi import APIRouter

from app.api import auth, comparison, dose_steps, entries

router = APIRouter(prefix="/api/v1")
router.include_router(auth.router)
router.include_router(entries.router)
router.include_router(dose_steps.router)
router.include_router(comparison.router)
