"""The server's logs never hold a customer's personal data.

Every log record of the process is masked as it is made (a record factory, so a record reaches no
handler unmasked, whichever logger it comes from): its message, its arguments, its traceback. The
access log's request line is URL-decoded first (``?q=%E7%94%B5%E8%AF%9D13812345678`` hides the
number from a plain search) and logged decoded and masked. Request bodies are never logged: the
service database hides statement parameters from its errors (``storage/service_db/engine.py``).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from gridkb.privacy import mask_personal_data

ACCESS_LOGGER = "uvicorn.access"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a decoded %0A must not forge a log line
_FORMATTER = logging.Formatter()


def readable_path(path: str) -> str:
    """The request path and query string as a person reads them: decoded, control characters escaped."""
    route, _, query = path.partition("?")
    decoded = unquote(route) + ("?" + unquote_plus(query) if query else "")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", decoded)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with personal data masked in its message, arguments, traceback and stack."""
    if isinstance(record.msg, str):
        record.msg = mask_personal_data(record.msg)
    if isinstance(record.args, tuple):
        args = list(record.args)
        if record.name == ACCESS_LOGGER and len(args) == 5 and isinstance(args[2], str):
            args[2] = readable_path(args[2])  # (client, method, path with query, http version, status)
        record.args = tuple(_masked(a) for a in args)
    elif isinstance(record.args, dict):
        record.args = {k: _masked(v) for k, v in record.args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_personal_data(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    return record


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, BaseException):  # its message may quote what a customer wrote
        return mask_personal_data(str(value))
    return value


class MaskingFilter(logging.Filter):
    """The same masking as a filter, for handlers a deployment configures itself (``log_config``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_masking() -> None:
    """Mask every log record of this process as it is made (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_personal_data", False):
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(current(*args, **kwargs))

    masking_factory.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
