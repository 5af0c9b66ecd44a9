"""Reminders (SPEC §13): the sender (`python -m app.reminders once|run`), Web Push, the
calendar feed, and the stored settings and subscriptions the pages and the API change."""
