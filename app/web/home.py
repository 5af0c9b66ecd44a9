"""/ leads a signed-in patient to today's entry, anyone else to the sign-in page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from app.deps import optional_web_user
from app.models import User

router = APIRouter()


@router.get("/")
def home(user: Annotated[User | None, Depends(optional_web_user)]) -> RedirectResponse:
    return RedirectResponse("/today" if user else "/login", status_code=303)
