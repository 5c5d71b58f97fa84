"""A source's record-level rows published once, in batches: one per release, never rewritten.

WHY: each run's records are anonymized as a batch of their own and never republished
under another generalization, so a record's published row does not change from one
release to the next. Writing every row to date into every release made a daily
release's cost grow with the platform's history (a 1M-row file rewritten to add 10k
rows). A release therefore writes only its batch: the loaded rows that no earlier
release's record file holds (the run's own rows; on a platform's first release, or
after a run whose release was blocked, every row not yet published). It lists the
earlier batches' files by path (`../<release id>/<file>`, the sibling release folder
in the bucket and in the exports mirror alike), size and SHA-256, as the releases that
published them recorded them: together they are every record-level row to date, and
the checksums pin each earlier file to the bytes its own manifest verified.

Which release holds which runs' rows is kept in `private.record_batches`
(`include/sql/warehouse.sql`, created with the warehouse), written once
the release is public (beside `release_history.mark_published`), so finding the next
batch and the earlier files is one query, whatever the history's size. Before a release
lists an earlier batch, the public bucket's listing must show its files at their sizes:
a batch the bucket lost (a zone emptied, a release withdrawn by hand) is forgotten and
its rows go into the release being built, so the files to date always hold every
published row once.

Why the union of batches keeps the guarantees each batch was gated on: an equivalence
class of the union (rows sharing their published quasi-identifiers) contains the
class each of its rows had in its own batch, so it is at least as large (k), holds at
least as many distinct sensitive values (distinct l-diversity), and its sensitive
distribution is a mixture of distributions of entropy at least log l, whose entropy
is at least as high (entropy l-diversity; entropy is concave). `civic audit risk`
measures the union from the published files, as an attacker holding them all would.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from include.core.source_config import SourceConfig
from include.publish.jsonfile import JSON
from include.publish.manifest import ManifestEntry
from include.publish.release_files import ReleaseFiles
from include.publish.run import check_release_id
from include.warehouse.pg_tables import RUN_COLUMN, ensure_table

TABLE = sql.Identifier("private", "record_batches")
FETCH_ROWS = 10_000  # rows per round trip (and per slice) when a release reads its batch


@dataclass(frozen=True)
class RecordBatch:
    """The record file(s) one release wrote: its CSV and Parquet, and their rows."""

    release_id: str
    rows: int
    files: tuple[ManifestEntry, ...]

    def manifest_item(self) -> dict[str, JSON]:
        """The batch as a later release's manifest lists it: paths from that release's folder."""
        return {
            "release_id": self.release_id,
            "rows": self.rows,
            "files": [
                {"path": f"../{self.release_id}/{f.path}", "bytes": f.bytes, "sha256": f.sha256}
                for f in self.files
            ],
        }


def written_batch(files: ReleaseFiles, table: str, rows: int) -> RecordBatch:
    """The batch a built release wrote: its record table's CSV and Parquet files."""
    names = (f"{table}.csv", f"{table}.parquet")
    entries = tuple(entry for entry in files.files if entry.path in names)
    if len(entries) != len(names):
        raise ValueError(f"release {files.release_id} has no record files {list(names)}")
    return RecordBatch(files.release_id, rows, entries)


def unbatched_rows(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    release_id: str,
    columns: Sequence[tuple[str, str]],
) -> pd.DataFrame:
    """The loaded (curated) rows no other release's batch holds: `release_id`'s batch, as
    one frame (`unbatched_slices` reads the same rows a slice at a time)."""
    frames = list(unbatched_slices(conn, config, release_id, columns))
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def unbatched_slices(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    release_id: str,
    columns: Sequence[tuple[str, str]],
    without: Collection[str] = (),
) -> Iterator[pd.DataFrame]:
    """`release_id`'s batch (see `unbatched_rows`), a slice of at most `FETCH_ROWS` rows at
    a time, with all its columns but `without` (never read); at least one slice, empty
    when no row is unbatched.

    The runs come from the small run tables (loaded runs, minus those another batch
    holds) and their rows through the curated table's run index: a daily release reads
    its day, not the table."""
    ensure_table(conn, "curated", config.name, columns)  # a new source's first release
    runs = [
        str(run)
        for (run,) in conn.execute(
            sql.SQL(
                "SELECT run_id FROM pipeline.ingest_runs WHERE source = %s AND status = 'loaded' "
                "EXCEPT SELECT unnest(runs) FROM {} WHERE source = %s AND release_id <> %s"
            ).format(TABLE),
            (config.name, config.name, check_release_id(release_id)),
        )
    ]
    table = sql.Identifier("curated", config.name)
    # Every column the table holds (as `SELECT *` would: one the config no longer declares
    # is still refused downstream), in its order, but `without`.
    names = [
        str(name)
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            (table.as_string(conn),),
        )
        if name not in without
    ]
    # WHY a server-side cursor read in slices: a client-side result holds every row twice
    # before the frame exists (libpq's copy and a Python tuple per row): ~1 GB at 1M rows;
    # and a caller that converts each slice as it comes never holds the rows as Python
    # objects, nor the batch twice (slices and their concatenation).
    with conn.cursor(name=f"unbatched_{config.name}") as cursor:
        cursor.execute(
            sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
                sql.SQL(", ").join(map(sql.Identifier, names)),
                table,
                sql.Identifier(RUN_COLUMN),
            ),
            (runs,),
        )
        empty = True
        while rows := cursor.fetchmany(FETCH_ROWS):
            empty = False
            yield pd.DataFrame(rows, columns=names)
    if empty:
        yield pd.DataFrame([], columns=names)


def earlier_batches(
    conn: psycopg.Connection[Any], source: str, release_id: str
) -> list[RecordBatch]:
    """Every batch another release of `source` published, in release order."""
    rows = conn.execute(
        sql.SQL(
            "SELECT release_id, rows, files FROM {} WHERE source = %s AND release_id <> %s "
            "ORDER BY release_id"
        ).format(TABLE),
        (source, check_release_id(release_id)),
    ).fetchall()
    return [
        RecordBatch(
            str(release),
            int(count),
            tuple(ManifestEntry(str(f["path"]), int(f["bytes"]), str(f["sha256"])) for f in files),
        )
        for release, count, files in rows
    ]


def forget_batches(conn: psycopg.Connection[Any], source: str, release_ids: Sequence[str]) -> None:
    """These releases' batches are no longer public (the public bucket lost their files):
    their runs' rows are unbatched again, so the next release publishes them once more."""
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE source = %s AND release_id = ANY(%s)").format(TABLE),
        (source, list(release_ids)),
    )


def lost_batches(batches: Sequence[RecordBatch], sizes: Mapping[str, int]) -> list[RecordBatch]:
    """The batches some file of which is not where its release put it, at its size
    (`sizes`: `../<release id>/<file>` → bytes, as the bucket lists them)."""
    return [
        batch
        for batch in batches
        if any(sizes.get(f"../{batch.release_id}/{f.path}") != f.bytes for f in batch.files)
    ]


def record_batch(
    conn: psycopg.Connection[Any], source: str, batch: RecordBatch, runs: Sequence[str]
) -> None:
    """The release is public: its batch holds `runs`' rows (a rerun records nothing new)."""
    files = [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256} for f in batch.files]
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (source, release_id, runs, rows, files) VALUES (%s, %s, %s, %s, "
            "%s::jsonb) ON CONFLICT (source, release_id) DO NOTHING"
        ).format(TABLE),
        (source, batch.release_id, sorted(runs), batch.rows, json.dumps(files)),
    )
