"""The test session's Superset: one real server for the whole session, on a port of its own.

It runs on top of the session's `platform` (tests/conftest.py): its metadata in
that PostgreSQL's `superset` database, its data through the read-only role
`civic_analyst`, set up exactly as `civic services up --superset` does. The
first start of a session sets Superset up (25 to 40 s on 2 cores), and the
server is stopped when the session ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from include.core.connections import SUPERSET_CONN_ID, Connection, get_connection
from include.services.stack import LocalPlatform


@dataclass(frozen=True)
class RunningSuperset:
    """What a test needs to talk to the session's Superset."""

    base_url: str
    username: str
    password: str = field(repr=False)
    warehouse_readonly: Connection


@pytest.fixture(scope="session")
def superset_server(platform: LocalPlatform) -> Iterator[RunningSuperset]:
    # The session's `platform` already chose a free port for Superset (not the default 8088,
    # which belongs to a demo that may be running) and wrote it into .local/env.
    server = platform.superset()
    try:
        platform.start_superset()
        admin = get_connection(SUPERSET_CONN_ID, platform.process_env())
        yield RunningSuperset(
            base_url=server.url,
            username=admin.login or "",
            password=admin.password or "",
            warehouse_readonly=platform.readonly_warehouse(),
        )
    finally:
        server.stop()


# -- engineer "assets": warehouse data for the asset tests (tests/superset/data_fixtures.py) --
from tests.superset.data_fixtures import released_sources  # noqa: E402, F401
