"""Structured JSON logs without personal data: one line per request (method, route path, status, time),
never the query string, the body, cookies or the client address."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, Final

LOGGER: Final = "xiangchuang.web"
_FIELDS: Final = ("event", "method", "path", "status", "ms", "request_id", "error", "where")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                doc[name] = getattr(record, name)
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the app's logger and uvicorn's (its access log is replaced by ours)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in (LOGGER, "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER)
