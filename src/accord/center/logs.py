"""How ``accord serve`` logs: uvicorn's own text lines, or (``--log-format json``) one JSON
object a line on standard error, for journald, a log shipper or ``jq``.

Every process ``accord serve`` starts logs the same way (the HTTP workers through uvicorn's
``log_config``, the writer process from :data:`LOG_FORMAT_ENV`). A JSON line holds ``time``
(UTC, milliseconds), ``level``, ``logger``, ``pid`` and ``message``; an access line also
``client``, ``method``, ``path`` (with its query) and ``status``; a failure its ``error``
(the traceback, as text). What is logged is what the text lines said — no request body, no
header: a bearer token travels in a header only (``/v1`` takes no token in a query), and
private keys are never logged.

>>> import logging
>>> line = JsonFormatter().format(logging.LogRecord(
...     "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
...     ("127.0.0.1:5000", "GET", "/v1/me", "1.1", 200), None))
>>> fields = json.loads(line)
>>> [fields[k] for k in ("level", "logger", "client", "method", "path", "status")]
['info', 'uvicorn.access', '127.0.0.1:5000', 'GET', '/v1/me', 200]
>>> fields["message"]
'127.0.0.1:5000 - "GET /v1/me HTTP/1.1" 200'
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "FORMATS",
    "JSON_HANDLER",
    "LOG_FORMAT_ENV",
    "JsonFormatter",
    "LogFormat",
    "configure",
    "log_format_of",
    "logging_json",
    "uvicorn_log_config",
]

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_FORMAT_ENV = "ACCORD_LOG_FORMAT"
"""The format the processes ``accord serve`` starts log in (``text`` when unset)."""
JSON_HANDLER = "accord-json"
"""The name of the root handler :func:`configure` installs for JSON."""


def logging_json() -> bool:
    """Whether this process's logging is configured for JSON lines (by :func:`configure`)."""
    return any(h.name == JSON_HANDLER for h in logging.getLogger().handlers)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            out.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str)


def _json_config() -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            JSON_HANDLER: {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": [JSON_HANDLER], "level": "INFO"},
        "loggers": {
            **{
                name: {"handlers": [], "level": "INFO", "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "accord")
            },
            "alembic": {"level": "WARNING"},  # its plugin set-up, at INFO, on every start
        },
    }


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any]:
    """What ``uvicorn.run(log_config=…)`` takes for ``log_format``: its own for ``text``."""
    if log_format == "json":
        return _json_config()
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG


def configure(log_format: LogFormat, *, text: str) -> None:
    """Configure this process's logging: JSON lines, or ``text`` (a :mod:`logging` format)
    at INFO on standard error."""
    if log_format == "json":
        logging.config.dictConfig(_json_config())
    else:
        logging.basicConfig(level=logging.INFO, format=text)


def log_format_of(value: str | None) -> LogFormat:
    """The format an environment value names (``text`` for anything else)."""
    return "json" if value == "json" else "text"
