"""A platform of its own for a test: services in a temporary folder, on free ports.

For tests that need what the session's platform must not change (another executor,
the vault) or must not see (a restart, a loss).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from include.core.settings import Settings
from include.services.processes import free_port
from include.services.stack import DEFAULT_PORTS, LocalPlatform, LocalState


@contextlib.contextmanager
def own_platform(prefix: str, **state: Any) -> Iterator[LocalPlatform]:
    """A `LocalPlatform` over a new folder whose state holds `state` (e.g. executor="celery");
    nothing is started here. Every service it started is stopped and the folder removed
    after."""
    local_dir = Path(tempfile.mkdtemp(prefix=prefix))
    local_dir.chmod(0o755)  # PostgreSQL runs as an unprivileged user when tests run as root
    ports = {name: free_port() for name in DEFAULT_PORTS}
    LocalState(ports=ports, **state).save(local_dir / "state.json")
    stack = LocalPlatform(
        Settings(local_dir=local_dir, exports_dir=local_dir / "exports"), environ={}
    )
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(local_dir, ignore_errors=True)
