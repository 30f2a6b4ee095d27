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


class UnsupportedFormatError(SourceError):
    """The file's extension or content is not a format gridkb reads."""


class DecodeError(SourceError):
    """The bytes of a text file match none of the supported encodings."""


class CorruptFileError(SourceError):
    """A binary document (PDF, DOCX, XLSX) cannot be parsed."""


class EmptyDocumentError(SourceError):
    """The file parsed but holds no usable text."""


class FileTooLargeError(SourceError):
    """The file exceeds the configured size limit."""


class NotFoundError(GridkbError):
    """The record asked for (ticket, session, message, notice) does not exist."""


class KnowledgeBaseMissingError(GridkbError):
    """No built knowledge base exists at the given directory."""


class GenerationError(GridkbError):
    """A built generation cannot be read: its manifest is missing, malformed or of an unknown version."""


class BackendUnavailableError(GridkbError):
    """An optional backend was selected but its extra is not installed or its server does not answer."""


class MissingExtraError(BackendUnavailableError, ImportError):
    """An optional backend was selected whose extra is not installed; the message names the extra to
    install. Also an ImportError, raised when the backend is used, never when gridkb is imported."""


class WorkerFailedError(GridkbError):
    """A parse or embed task of an ingest failed on its worker (the worker died, or the task raised):
    the ingest stops before publishing, so the generation being served stays."""


# --- storage

class DatabaseError(GridkbError):
    """The service database cannot be reached or is not at the expected schema."""


class DurabilityError(DatabaseError):
    """The database could lose or leak what the service acknowledged: it refuses to serve."""


class ConcurrentUpdateError(GridkbError):
    """Someone else changed the record first (reload and try again)."""


class BackupError(GridkbError):
    """A backup cannot be made or restored (the message says what to do)."""


# --- production

class InvalidUploadError(GridkbError):
    """An upload cannot be accepted as it is; the message says which file and what to change."""


# --- organisation

class ConflictDecisionError(GridkbError):
    """A ruling on a conflict that cannot be recorded (the statement is not one of the conflict's)."""


class ConflictAlreadyDecidedError(ConflictDecisionError):
    """The conflict has a ruling already."""


class ConflictNotFoundError(ConflictDecisionError, NotFoundError):
    """No undecided conflict has that id (the knowledge base may have been rebuilt)."""


# --- chat

class InvalidMessageError(GridkbError):
    """A chat message or feedback that cannot be processed (too long, out of range)."""


class UnknownConversationError(InvalidMessageError, NotFoundError):
    """The session or message referred to does not exist."""


class InvalidNoticeError(GridkbError):
    """A notice that cannot be published as given."""


class NoticeNotFoundError(InvalidNoticeError, NotFoundError):
    """No notice has that id."""


# --- tickets

class TicketError(GridkbError):
    """A ticket operation that is not allowed (unknown ticket, invalid transition, missing field)."""


class InvalidTransitionError(TicketError):
    """The ticket's lifecycle does not allow that status change from its current status."""


class TicketNotFoundError(TicketError, NotFoundError):
    """No ticket has that number."""


class AssignmentRefusedError(TicketError):
    """An agent may not assign this ticket: the assignee sees the customer's data unmasked."""


class ReviewRefusedError(TicketError):
    """Only admins approve or reject an answer proposed for the knowledge base."""


class InvalidKeyError(GridkbError):
    """An API key that cannot be issued (keys are for agents and admins)."""


class InvalidIdentifierError(GridkbError):
    """An erasure request names its customer by something that is not a phone, session id or ticket number."""


class CustomerRecordNotFoundError(NotFoundError):
    """No session or ticket with the id an erasure request gives."""


# --- evaluation

class EvaluationError(GridkbError):
    """``gridkb eval`` cannot run as asked: an unknown dataset or split, or a dataset file missing."""
