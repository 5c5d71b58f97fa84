"""Why a release was not published.

Three different situations call for three different reactions from an operator,
so they are three exception types rather than one:

- `PublicationBlockedError`: the inputs fail a gate (an expectation failed, k or
  l is not met, a small count is visible). Fix the data or the pipeline; nothing
  was written anywhere public.
- `ReleaseConflictError`: a release with this id already exists with other
  content. Published releases are immutable: investigate, never overwrite.
- `ReleaseVerificationError`: what was stored does not match what was written
  (corrupted upload, tampered object). The `latest` pointer was not switched.
  Before the release is committed a rerun re-uploads it; a committed release
  that was altered afterwards must be restored, and the message says so.
"""

from __future__ import annotations


class PublishError(RuntimeError):
    """Base class of every publication failure."""


class PublicationBlockedError(PublishError):
    """The release fails a publication gate; nothing was published."""


class ReleaseConflictError(PublishError):
    """A release with the same id already exists with different content."""


RERUN_HINT = "rerun the publication to upload the release again"


class ReleaseVerificationError(PublishError):
    """Stored files do not match the release manifest."""

    def __init__(self, where: str, problems: list[str], hint: str = RERUN_HINT) -> None:
        self.where = where
        self.problems = list(problems)
        listed = "; ".join(self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(
            f"{where} does not match its manifest: {listed}{more}. The latest pointer was "
            f"not switched; {hint}"
        )
