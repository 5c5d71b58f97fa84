"""What the exporter reads on a scrape: new ledger entries, the ledger's verification,
the raw zone's unencrypted objects. Each keeps what it read so a scrape stays cheap.

- Ledger entries: the ledger is append-only, so only entries past the last seq read
  are fetched; a ledger whose newest seq went down (entries cut from its end, or a
  new database) is read again from the start.
- Verification: the whole chain and every signature recomputed, and the newest head a
  release recorded checked to be still there (`include.audit.verify`, what `civic audit
  verify` does: entries cut from the ledger's end fail it), in a background thread,
  `every` seconds after the previous verification ended; a scrape gets the newest result
  at once.
- Raw zone: S3 listings do not say whether an object is encrypted, so each object is
  HEADed once and its answer kept until its ETag or LastModified changes (a rewrite);
  the listing is redone in the background like the verification.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from botocore.exceptions import ClientError

from include.audit import Anchor, AuditKey, VerifyResult, verify
from include.monitoring.ledger_runs import LedgerRow, LedgerRuns

T = TypeVar("T")

_COUNT = "SELECT count(*), coalesce(max(seq), 0) FROM audit.ledger"
_NEWER = (
    "SELECT seq, recorded_at, run_id, dag_id, step, payload FROM audit.ledger "
    "WHERE seq > %s ORDER BY seq"
)
_FETCH = 2000


class LedgerReader:
    """The ledger's pipeline runs, kept up to date by reading only new entries."""

    def __init__(self, dsn: str, sources: Iterable[str]) -> None:
        self.dsn = dsn
        self.sources = frozenset(sources)
        self.runs = LedgerRuns(self.sources)
        self.entries = 0

    def refresh(self) -> LedgerRuns:
        with psycopg.connect(self.dsn, connect_timeout=5) as conn:
            conn.read_only = True
            row = conn.execute(_COUNT).fetchone()
            count, newest = (int(row[0]), int(row[1])) if row else (0, 0)
            if newest < self.runs.last_seq:
                self.runs = LedgerRuns(self.sources)
            with conn.cursor(name="monitoring_ledger") as cursor:
                cursor.itersize = _FETCH
                cursor.execute(_NEWER, (self.runs.last_seq,))
                self.runs.add(LedgerRow(*row) for row in cursor)
        self.entries = count
        return self.runs


class Refreshed(Generic[T]):
    """A value recomputed in a background thread, `every` seconds after the previous
    computation ended; `get()` returns the newest outcome without waiting for the next
    one (only the very first call waits for the first). An outcome that is an error is
    raised by `get()` until a later computation succeeds.

    WHY in the background: verifying the ledger costs about 0.25 ms per entry (Ed25519,
    measured on these 2-core machines), so a ledger of 40,000 entries takes 10 s, the
    default scrape timeout: the scrape that fell due would time out. Here no scrape waits,
    and verification never takes more than a share verify / (verify + every) of a core.
    """

    def __init__(self, compute: Callable[[], T], every: float, name: str = "refresh") -> None:
        self._compute = compute
        self.every = every
        self.name = name
        self._outcome: tuple[T | None, BaseException | None, float] | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def get(self) -> T:
        self._start()
        self._ready.wait()
        assert self._outcome is not None
        value, error, _ = self._outcome
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    def age(self) -> float | None:
        """Seconds since the newest outcome was computed; None before the first."""
        return None if self._outcome is None else time.monotonic() - self._outcome[2]

    def stop(self) -> None:
        self._stopped.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self._outcome = (self._compute(), None, time.monotonic())
            except Exception as exc:  # kept and raised by get(): the part shows as down
                self._outcome = (None, exc, time.monotonic())
            self._ready.set()
            self._stopped.wait(self.every)


def ledger_verification(
    dsn: str,
    key: Callable[[], AuditKey],
    every: float,
    released_head: Callable[[], Anchor | None] = lambda: None,
) -> Refreshed[VerifyResult]:
    """The ledger's verification, recomputed every `every` seconds in the background,
    against the newest head a release recorded (`released_head`, read again each time:
    entries cut from the ledger's end fail it). `key` is called until it first succeeds
    (a key held by the vault needs the vault)."""
    loaded: list[AuditKey] = []

    def compute() -> VerifyResult:
        if not loaded:
            loaded.append(key())
        return verify(dsn, loaded[0], anchor=released_head())

    return Refreshed(compute, every, "ledger-verification")


@dataclass(frozen=True)
class RawZoneState:
    objects: int
    unencrypted: int


class RawZoneScanner:
    """Objects of the raw bucket stored without server-side encryption."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._seen: dict[str, tuple[str, bool]] = {}  # key → (version stamp, encrypted)

    def scan(self) -> RawZoneState:
        seen: dict[str, tuple[str, bool]] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                key = item["Key"]
                stamp = f"{item.get('ETag')}|{item['LastModified'].isoformat()}"
                known = self._seen.get(key)
                if known is not None and known[0] == stamp:
                    seen[key] = known
                    continue
                encrypted = self._encrypted(key)
                if encrypted is not None:
                    seen[key] = (stamp, encrypted)
        self._seen = seen
        return RawZoneState(len(seen), sum(1 for _, encrypted in seen.values() if not encrypted))

    def _encrypted(self, key: str) -> bool | None:
        """Whether the object reports server-side encryption; None if it is gone."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return bool(head.get("ServerSideEncryption"))
