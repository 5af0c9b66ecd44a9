"""Which trial a request may touch: the signed-in patient's own, else 404 (like app/deps.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from app.db import Database, DatabaseDep
from app.deps import ApiUser, RowId, WebUser
from app.models import SelfTrial, User
from app.trials import service


def _owned_trial(database: Database, user: User, trial_id: int) -> SelfTrial:
    assert user.id is not None
    with database.read() as session:
        trial = service.get_trial(session, user_id=user.id, trial_id=trial_id)
    if trial is None:
        raise HTTPException(status_code=404, detail="No such trial")
    return trial


def api_owned_trial(database: DatabaseDep, user: ApiUser, trial_id: RowId) -> SelfTrial:
    return _owned_trial(database, user, trial_id)


def web_owned_trial(database: DatabaseDep, user: WebUser, trial_id: RowId) -> SelfTrial:
    return _owned_trial(database, user, trial_id)


ApiOwnedTrial = Annotated[SelfTrial, Depends(api_owned_trial)]
WebOwnedTrial = Annotated[SelfTrial, Depends(web_owned_trial)]
