"""Rasa's JSON logs without the local variables of every frame of a traceback.

Rasa 3.6 renders an exception in its JSON log with structlog's `dict_tracebacks`, whose default shows every local
variable of every frame. With the city profile's PostgreSQL down, one failed turn wrote the database password into
the Rasa server's log (psycopg2's `connect` holds the DSN; tests/e2e/test_city.py found it). Here the tracebacks keep
their frames (file, line, function) and the exception's type and message, never the locals.
"""

from __future__ import annotations


def install() -> None:
    """Replace structlog.processors.dict_tracebacks, which rasa.utils.log_utils.configure_structlog looks up when it
    runs (at Rasa's start, after this), by the same renderer without locals (idempotent)."""
    import structlog
    from structlog.processors import ExceptionRenderer
    from structlog.tracebacks import ExceptionDictTransformer

    structlog.processors.dict_tracebacks = ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
