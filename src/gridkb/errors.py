"""Exceptions with messages a user can act on; the CLI and API turn them into clean output."""

from __future__ import annotations


class GridkbError(Exception):
    """Base class of every error gridkb raises on purpose."""


class ConfigError(GridkbError):
    """Settings or curated configuration under ``kb/`` are invalid."""


class SourceError(GridkbError):
    """A source file cannot be ingested; ``reason`` says why in a few words."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnsupportedFormat(SourceError):
    """The file's extension or content is not a format gridkb reads."""


class DecodeError(SourceError):
    """The bytes of a text file match none of the supported encodings."""


class CorruptFile(SourceError):
    """A binary document (PDF, DOCX, XLSX) cannot be parsed."""


class EmptyDocument(SourceError):
    """The file parsed but holds no usable text."""


class FileTooLarge(SourceError):
    """The file exceeds the configured size limit."""


class NotFound(GridkbError):
    """The record asked for (ticket, session, message, notice) does not exist."""


class KnowledgeBaseMissing(GridkbError):
    """No built knowledge base exists at the given directory."""


class BackendUnavailable(GridkbError):
    """An optional backend was selected but its extra is not installed or its server does not answer."""
