"""Turns (app.admission): a free turn is taken without waiting for the event loop's next round;
a busy kind queues in arrival order, times out, and refuses waiters past its limit."""

from __future__ import annotations

import asyncio

from app.admission import Turns


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

    assert asyncio.run(scenario()) == ["turn taken", "second turn taken", "other work ran"]


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

    happened, refused = asyncio.run(scenario())
    assert refused
    assert happened == ["hurried timed out", "patient served"]
