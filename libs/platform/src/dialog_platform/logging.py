"""JSON logs to stdout, one object per line, with the service name and, inside a trace, its trace
and span ids; phone numbers masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from .phones import masked_kz
from .tracing import current_ids

# Kazakhstan numbers in any shape people type them (+7 701 123 45 67, 87011234567, 7011234567):
# the last two digits stay so that a support person can match a complaint to a line.
_PHONE = re.compile(
    r"(?<!\d)(?:\+?[78][\s\-()]*)?(7\d{2})[\s\-()]*\d{3}[\s\-]*\d{2}[\s\-]*(\d{2})(?!\d)"
)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def mask_phones(text: str) -> str:
    return _PHONE.sub(lambda m: masked_kz(m.group(1), m.group(2)), text)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": getattr(record, "service", None) or self.service,
            "logger": record.name,
            "message": mask_phones(record.getMessage()),
        }
        # Formatted in the task that logged, so the current span is the line's own.
        ids = current_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key != "service" and not key.startswith("_"):
                entry[key] = _mask(value)
        if record.exc_info:
            entry["exception"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log carries query strings; it goes through the same masking formatter.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    for noisy in ("pymongo", "aiormq", "aio_pika", "botocore", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
