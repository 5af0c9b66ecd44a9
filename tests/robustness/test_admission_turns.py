"""Turns (app.admission): a free turn is taken without waiting for the event loop's next round;
a busy kind queues in arrival order, times out, and refuses waiters past its limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from app.admission import Turns


def run_on_a_loop_of_its_own(scenario: Coroutine[Any, Any, Any]) -> Any:
    """`asyncio.run(scenario)` in a thread of its own, within 10 s: the browser tests' driver
    keeps an event loop running in the test's own thread."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(scenario)
        except BaseException as error:  # handed to the test's thread below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the scenario did not end within 10 s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_free_turn_is_taken_without_going_back_to_the_event_loop() -> None:
    async def scenario() -> list[str]:
        turns = Turns(size=2, max_waiting=8)
        happened: list[str] = []
        asyncio.get_running_loop().call_soon(happened.append, "other work ran")
        assert await turns.take(1.0)
        happened.append("turn taken")
        assert await turns.take(1.0)
        happened.append("second turn taken")
        await asyncio.sleep(0)
        return happened

    happened = run_on_a_loop_of_its_own(scenario())
    assert happened == ["turn taken", "second turn taken", "other work ran"]


def test_a_busy_kind_queues_times_out_and_refuses_waiters_past_its_limit() -> None:
    async def scenario() -> tuple[list[str], bool]:
        turns = Turns(size=1, max_waiting=2)
        assert await turns.take(1.0)
        happened: list[str] = []

        async def waiter(name: str, timeout: float) -> None:
            if await turns.take(timeout):
                happened.append(f"{name} served")
                turns.give_back()
            else:
                happened.append(f"{name} timed out")

        patient = asyncio.create_task(waiter("patient", 5.0))
        hurried = asyncio.create_task(waiter("hurried", 0.05))
        await asyncio.sleep(0)  # both wait now
        refused = not await turns.take(5.0)  # a third waiter: past the limit, refused at once
        await asyncio.sleep(0.2)  # the hurried one gives up meanwhile
        turns.give_back()
        await asyncio.wait_for(asyncio.gather(patient, hurried), 5.0)
        return happened, refused

    happened, refused = run_on_a_loop_of_its_own(scenario())
    assert refused
    assert happened == ["hurried timed out", "patient served"]
