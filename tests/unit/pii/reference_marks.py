"""The skip mark for tests that read the public reference corpora beside the project.

A user's clone has no `../shared/reference/`: those tests skip with one line saying what
is missing, instead of failing.
"""

from __future__ import annotations

import pytest

from include.anonymization.pii.reference_corpora import (
    CITIZEN_TEXTS_FILE,
    REFERENCE_DIR,
    WIKINEURAL_FILE,
)

_MISSING = [p for p in (WIKINEURAL_FILE, CITIZEN_TEXTS_FILE) if not (REFERENCE_DIR / p).is_file()]
needs_reference_corpora = pytest.mark.skipif(
    bool(_MISSING), reason=f"reference corpora absent: {REFERENCE_DIR} (../shared/reference)"
)
