"""The audit package's exceptions, under one base so callers can catch them together."""

from __future__ import annotations


class AuditError(Exception):
    """Something about the audit ledger failed; the message says what and what to do."""


class CanonicalJSONError(AuditError, ValueError):
    """A payload holds a value with no single, unambiguous JSON form."""


class AuditKeyError(AuditError, ValueError):
    """The signing key is missing, malformed, too weak, or cannot do what was asked."""


class LedgerError(AuditError):
    """The ledger table is missing, unreachable, or refused the operation."""


class LedgerBrokenError(AuditError):
    """Verification found an entry that was changed, removed or forged."""


class PublicLogError(AuditError):
    """The public log of a release cannot be built: the ledger does not extend, unchanged,
    the tree head the previous release signed, or does not hold what was verified."""
