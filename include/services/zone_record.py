"""What the platform remembers about its embedded S3 zones, so that losing them is never silent.

Creating a bucket is the S3 API's answer to a missing one, and moto's server
starts empty when its snapshot is gone: a plain `civic services up` would
recreate empty zones over the ones that held the raw submissions, releases and
`latest.json`, and the pipeline would go on publishing figures over whatever is
left. So `.local/state.json` records which zone buckets were created on the
embedded server and what its snapshot held at the last save; when `up` finds
one of them missing it refuses, says what was lost and why, and only
`civic services up --force` starts again with empty zones, the reset recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from include.services.processes import ServiceError
from include.services.s3server import RestoreReport, S3Server, SnapshotInfo


class ZonesLostError(ServiceError):
    """Zone buckets that held data are gone from the embedded S3 server."""


@dataclass
class ZoneRecord:
    """The `s3_zones` entry of `.local/state.json`."""

    buckets: list[str] = field(default_factory=list)
    created_at: str | None = None
    last_save: dict[str, Any] | None = None
    resets: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ZoneRecord:
        return cls(
            buckets=list(data.get("buckets", [])),
            created_at=data.get("created_at"),
            last_save=data.get("last_save"),
            resets=list(data.get("resets", [])),
        )

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    def zones_ensured(self, names: list[str]) -> None:
        """Remember the zone buckets `up` made sure of (kept even if settings rename them)."""
        if not self.buckets:
            self.created_at = _now()
        self.buckets = sorted({*self.buckets, *names})

    def saved(self, info: SnapshotInfo | None) -> None:
        if info is not None:
            self.last_save = {"saved_at": info.saved_at.isoformat(), "objects": info.objects}

    def held(self) -> str:
        """What the zones held, as far as the platform knows."""
        if not self.last_save:
            return f"zones created {self.created_at}"
        objects = self.last_save["objects"]
        saved_at = datetime.fromisoformat(self.last_save["saved_at"])
        return (
            f"{objects:,} object{'s' if objects != 1 else ''} at the last save, "
            f"{saved_at:%Y-%m-%d %H:%M:%S} UTC"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def why_empty(server: S3Server, report: RestoreReport | None) -> str:
    """Why the server has no such bucket, from what it reported at start-up."""
    if report is None:
        return "the server was already running without them (deleted through the S3 API?)"
    if report.outcome == "restored":
        return f"the snapshot it restored (saved {report.saved_at}) does not hold them"
    if report.outcome == "set-aside":
        return (
            f"its snapshot could not be restored ({report.problem}); moved to {report.set_aside_to}"
        )
    return f"no snapshot at {server.snapshot_path}"


def check_zones(
    record: ZoneRecord,
    existing: set[str],
    server: S3Server,
    report: RestoreReport | None,
    *,
    force: bool,
    state_file: str,
) -> dict[str, Any] | None:
    """Refuse (ZonesLostError) if recorded zone buckets are missing, unless `force`.

    With `force`, forget the lost buckets and return the reset entry that was recorded.
    """
    missing = [name for name in record.buckets if name not in existing]
    if not missing:
        return None
    reason = why_empty(server, report)
    if not force:
        raise ZonesLostError(
            f"S3 zones lost: the embedded S3 server came up without {', '.join(missing)} "
            f"({record.held()}): {reason}. Put the snapshot back ({server.snapshot_path}) "
            "with the state.json it was saved with and run `civic services up` again, or run "
            f"`civic services up --force` to start with empty zones (recorded in {state_file})"
        )
    reset = {"at": _now(), "lost": missing, "last_save": record.last_save, "reason": reason}
    record.resets.append(reset)
    record.buckets = [name for name in record.buckets if name not in missing]
    record.last_save = None
    return reset
