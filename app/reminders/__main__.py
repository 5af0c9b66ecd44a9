"""`python -m app.reminders once` sends every reminder due now; `run` does so every minute.

Several senders may run at once against one PostgreSQL (one per machine): each reminder is
still sent once (see app/reminders/sender.py). On SQLite run one, beside the web server.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from types import FrameType

from app.config import get_settings
from app.db import make_database
from app.reminders.sender import send_due

log = logging.getLogger("app.reminders")


def _seconds_to_next_minute() -> float:
    return 60 - (time.time() % 60) + 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.reminders", description=__doc__)
    parser.add_argument("mode", choices=("once", "run"), help="send once and exit, or keep going")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s reminders %(message)s")
    settings = get_settings()
    database = make_database(settings)
    settings.resolved_vapid_private_key()  # generated now, not in the middle of a pass
    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while True:
            try:
                report = send_due(database, settings)
                if report.claimed:
                    log.info(
                        "sent %d reminder(s): %d delivered, %d subscription(s) dropped, %d failed",
                        report.claimed,
                        report.delivered,
                        report.dropped,
                        report.failed,
                    )
            except Exception:
                if args.mode == "once":
                    raise
                log.exception("a pass failed; trying again in a minute")
            if args.mode == "once" or stop.wait(_seconds_to_next_minute()):
                return 0
    finally:
        database.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
