"""Exceptions of the ingest stage."""

from __future__ import annotations


class IngestError(RuntimeError):
    """The ingest of a run cannot go on (bad arguments, inconsistent state)."""


class RowRejectedError(ValueError):
    """One row fails validation; `reason` is its stable code (see `reasons`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ObjectRejectedError(ValueError):
    """A whole raw object is quarantined; `reason` is an object-level code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class AccountingError(IngestError):
    """Rows read do not equal rows kept + quarantined + duplicates (+ later stages)."""
