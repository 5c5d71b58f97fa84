"""The embedded S3 server process: moto's S3 API, with its state kept in a sealed snapshot.

moto (the only S3 server the registries here offer with server-side encryption
and bucket encryption settings) keeps everything in memory; stopping it used to
empty the zones. This process runs moto's own WSGI application, restores the
snapshot before it accepts a request, and saves it again:

- after changes: a request other than GET/HEAD/OPTIONS marks the state dirty;
  a background thread saves it at most every `--save-interval` seconds (longer
  when saves are slow: never more than a fifth of the time is spent saving),
  so a kill -9 loses at most the last couple of seconds;
- on SIGTERM / SIGINT (`civic services down`): requests stop, then a last save.

While a save runs, requests wait at a gate (a save of the demo's data takes a
few tens of milliseconds): the snapshot is one consistent moment.

If the snapshot cannot be restored (damaged, sealed with another key, written by
an incompatible moto), the process refuses to start and keeps the file, unless
started with `--set-aside-unreadable` (`civic services up --force`): then the
file is renamed aside and the server starts empty. Either way it writes what
happened to the `--report` file for `civic services up`.

Run as `python -m include.services.s3_persistent_server`; the snapshot key comes
in the environment variable named by SNAPSHOT_KEY_VAR, never on the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from include.services.s3_snapshot import restore_backends, save_backends
from include.services.s3server import SNAPSHOT_KEY_VAR, RestoreReport

log = logging.getLogger("civic.s3")

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXIT_UNRESTORABLE = 3
# A save may take at most this share of the time: the wait after a save is at least
# SLOW_SAVE_FACTOR times as long as that save took.
SLOW_SAVE_FACTOR = 4


class RequestGate:
    """Requests pass together; a snapshot waits for those inside and holds new ones back."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._inside = 0
        self._closed = False

    @contextlib.contextmanager
    def passage(self) -> Iterator[None]:
        with self._condition:
            while self._closed:
                self._condition.wait()
            self._inside += 1
        try:
            yield
        finally:
            with self._condition:
                self._inside -= 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        with self._condition:
            while self._closed:
                self._condition.wait()
            self._closed = True
            while self._inside:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._closed = False
                self._condition.notify_all()


class GatedApp:
    """moto's WSGI application behind the gate; changing requests mark the state dirty."""

    def __init__(self, app: Callable[..., Any], gate: RequestGate, dirty: threading.Event):
        self._app, self._gate, self._dirty = app, gate, dirty

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        changes = environ.get("REQUEST_METHOD", "GET") not in READ_ONLY_METHODS
        with self._gate.passage():
            try:
                # moto builds the whole response inside the call: iterating it later
                # touches no backend state, so the gate need not cover it.
                return self._app(environ, start_response)  # type: ignore[no-any-return]
            finally:
                if changes:
                    self._dirty.set()


class Saver:
    """Saves the snapshot in the background while the state is dirty, and once at the end."""

    def __init__(self, path: Path, key: str, gate: RequestGate, interval: float) -> None:
        self.path, self._key, self._gate, self._interval = path, key, gate, interval
        self.dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshot-saver", daemon=True)
        self._last_end = 0.0
        self._last_duration = 0.0

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self.dirty.wait(timeout=1.0):
                continue
            pause = max(self._interval, SLOW_SAVE_FACTOR * self._last_duration)
            delay = self._last_end + pause - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            self.save()

    def save(self) -> bool:
        """One save now if anything changed since the last one; False if it failed (logged,
        the state stays dirty so the next round retries)."""
        if not self.dirty.is_set():
            return True
        started = time.monotonic()
        try:
            with self._gate.closed():
                self.dirty.clear()
                info = save_backends(self.path, self._key)
        except Exception:
            self.dirty.set()
            log.exception("saving the S3 snapshot %s failed; retrying", self.path)
            return False
        finally:
            self._last_end = time.monotonic()
        self._last_duration = self._last_end - started
        if self._last_duration > 1.0:
            log.info(
                "snapshot saved: %d objects, %d body bytes, %d file bytes in %.1f s",
                info.objects,
                info.body_bytes,
                info.file_bytes,
                self._last_duration,
            )
        return True

    def stop(self) -> bool:
        """Stop the background saves, then save what is left; False if that last save failed."""
        self._stopping.set()
        self._thread.join()
        return self.save()


def restore(path: Path, key: str, set_aside_unreadable: bool) -> RestoreReport:
    """Restore the snapshot if there is one; what happened, for `civic services up`."""
    started_at = datetime.now(UTC).isoformat()
    if not path.exists():
        return RestoreReport(started_at, "fresh")
    try:
        info = restore_backends(path, key)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
        if not set_aside_unreadable:
            return RestoreReport(started_at, "refused", problem=problem)
        aside = path.with_name(f"{path.name}.unreadable-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        path.replace(aside)
        return RestoreReport(started_at, "set-aside", problem=problem, set_aside_to=str(aside))
    saved_at = info.saved_at.isoformat()
    return RestoreReport(started_at, "restored", saved_at=saved_at, objects=info.objects)


def _write_report(path: Path, report: RestoreReport) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=2))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--save-interval", type=float, default=2.0)
    parser.add_argument("--set-aside-unreadable", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    key = os.environ.pop(SNAPSHOT_KEY_VAR, "")
    if not key:
        log.error("error: %s is not set: the snapshot key is needed to start", SNAPSHOT_KEY_VAR)
        return 2
    args.snapshot.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    report = restore(args.snapshot, key, args.set_aside_unreadable)
    _write_report(args.report, report)
    if report.outcome == "refused":
        log.error("error: %s", report.refusal(args.snapshot))
        return EXIT_UNRESTORABLE
    log.info("S3 state: %s", report.describe(args.snapshot))

    os.environ.setdefault("MOTO_PORT", str(args.port))
    gate = RequestGate()
    saver = Saver(args.snapshot, key, gate, args.save_interval)
    app = GatedApp(DomainDispatcherApplication(create_backend_app), gate, saver.dirty)
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="s3-api", daemon=True).start()
    saver.start()
    log.info("S3 API on http://%s:%d, snapshot %s", args.host, args.port, args.snapshot)
    stop.wait()
    log.info("stopping: no new requests, then a last save")
    server.shutdown()
    saved = saver.stop()
    server.server_close()
    if not saved:
        log.error(
            "error: the last save failed (see above): %s holds the zones as of its previous save",
            args.snapshot,
        )
        return 1
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
