"""Errors of the scrubber that callers handle without importing spaCy or Presidio."""


class ModelNotInstalledError(RuntimeError):
    """The spaCy model package is not installed (the scrubber never downloads one)."""


class ScrubWorkerLostError(RuntimeError):
    """A worker process died before returning its chunk: the batch was not scrubbed."""
