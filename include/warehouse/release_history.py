"""Successive releases as one system: what the previous release published, kept to protect
the next one against differencing.

Aggregates count every record to date, so each release's cell is the previous release's
cell plus the records that came since. A reader holding both releases subtracts them: a
cell shown twice gives the number of new records in it exactly, and a cell shown then
hidden (or the reverse) is narrowed by the other release. Cell suppression that looks
at one release alone lets a group of one or two new submissions be read off.

So each load records, per cell, the true count and what the release shows
(`private.released_cells`, confidential), and the publish stage marks the run's cells
published once the release is public. The next run protects its tables together with
the previous release (`history_tables`): for each aggregate, an unpublished table with a
`RELEASE` dimension (`previous`, `new`; the total being the current table), the previous
release's shown counts as exact facts. The primary rule then applies to the new records
too, so a small group of new submissions must stay hidden by at least its protection
interval, and the LP audit covers both releases. Only the previous release is taken into
account (each release was itself protected against its own previous one); the previous
record file's counts are not (a record's published row does not change between releases,
so the current file already gives what it gave).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from include.anonymization.linked_suppression import KnownCell, LinkedTable

# The dimension that tells the previous release from the new records; upper case, so that
# no field (their names are lower case) can take it.
RELEASE = "RELEASE"
PREVIOUS, NEW = "previous", "new"
TABLE = sql.Identifier("private", "released_cells")


def _json_code(code: Hashable) -> Any:
    """A dimension code as JSON keeps it: booleans, numbers and strings as they are, anything
    else (a date) as its text. The current cells are compared in this form too, so a cell
    read back from the database matches the same cell counted again."""
    if isinstance(code, np.generic):
        code = code.item()
    return code if isinstance(code, bool | int | float | str) else str(code)


def record_release_cells(
    conn: psycopg.Connection[Any],
    source: str,
    run_id: str,
    truth: Mapping[str, pd.DataFrame],
    shown: Mapping[str, pd.DataFrame],
    dimensions: Mapping[str, tuple[str, ...]],
) -> int:
    """Replace the run's rows: every cell of every aggregate, its true count (`truth`, from
    `include.warehouse.aggregates.count_cells`) and what the release shows (`shown`, the protected
    cells; missing where hidden). In the caller's (load) transaction."""
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE source = %s AND run_id = %s").format(TABLE), (source, run_id)
    )
    rows = []
    for name, counted in truth.items():
        dims = list(dimensions[name])
        published = shown[name].set_index(dims)["count"] if len(shown[name]) else pd.Series()
        for row in counted.itertuples(index=False):
            codes = tuple(row[: len(dims)])
            key = codes if len(dims) > 1 else codes[0]
            value = published.get(key, pd.NA) if len(published) else pd.NA
            cell = json.dumps([_json_code(code) for code in codes], ensure_ascii=False)
            rows.append(
                (source, run_id, name, cell, int(row[-1]), None if pd.isna(value) else int(value))
            )
    with conn.cursor() as cursor:
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {} (source, run_id, aggregate, cell, true_count, shown_count) "
                "VALUES (%s, %s, %s, %s::jsonb, %s, %s)"
            ).format(TABLE),
            rows,
        )
    return len(rows)


def mark_published(conn: psycopg.Connection[Any], source: str, run_id: str) -> None:
    """The run's release is public: the next run protects its tables against it."""
    conn.execute(
        sql.SQL(
            "UPDATE {} SET published_at = now() WHERE source = %s AND run_id = %s "
            "AND published_at IS NULL"
        ).format(TABLE),
        (source, run_id),
    )


def previous_release(
    conn: psycopg.Connection[Any],
    source: str,
    dimensions: Mapping[str, tuple[str, ...]],
    exclude_run: str,
) -> tuple[str | None, dict[str, pd.DataFrame]]:
    """The last published release other than `exclude_run`'s: its run and, per aggregate,
    its cells (dimension columns, `true_count`, `shown_count`)."""
    found = conn.execute(
        sql.SQL(
            "SELECT run_id FROM {} WHERE source = %s AND run_id <> %s AND published_at IS NOT "
            "NULL ORDER BY published_at DESC, run_id DESC LIMIT 1"
        ).format(TABLE),
        (source, exclude_run),
    ).fetchone()
    if found is None:
        return None, {}
    run = str(found[0])
    rows = conn.execute(
        sql.SQL(
            "SELECT aggregate, cell, true_count, shown_count FROM {} "
            "WHERE source = %s AND run_id = %s"
        ).format(TABLE),
        (source, run),
    ).fetchall()
    cells: dict[str, list[list[Any]]] = {}
    for aggregate, cell, true_count, shown_count in rows:
        cells.setdefault(aggregate, []).append([*cell, true_count, shown_count])
    frames = {
        name: pd.DataFrame(
            cells.get(name, []), columns=[*dims, "true_count", "shown_count"], dtype=object
        )
        for name, dims in dimensions.items()
        if name in cells
    }
    return run, frames


def _key(cell: Mapping[str, Hashable]) -> frozenset[tuple[str, Hashable]]:
    return frozenset(cell.items())


def history_tables(
    tables: Mapping[str, LinkedTable],
    previous: Mapping[str, pd.DataFrame],
    known: Sequence[KnownCell] = (),
) -> tuple[dict[str, LinkedTable], list[KnownCell]]:
    """For each current table the previous release also published: the unpublished table of
    its cells split into `previous` and `new` records, and what a reader knows of them.

    Facts: the previous release's counts, exact where it showed them (a cell it did not
    list is a known 0); a new-records cell whose current count is bounded by `known` (the
    record file) and whose previous count was shown is bounded too, by the difference: the
    record file gives the new records' rows as much as the old ones', so its bounds, not
    the rule, limit what hiding can protect. Refuses counts that fell (the tables are
    cumulative).
    """
    bounds = {_key(fact.cell): fact for fact in known}
    added: dict[str, LinkedTable] = {}
    facts: list[KnownCell] = []
    for name, table in tables.items():
        before = previous.get(name)
        if before is None or before.empty:
            continue
        dims = list(table.dimensions)
        stored_form = table.frame[dims].map(_json_code)
        original = dict(
            zip(
                stored_form.itertuples(index=False, name=None),
                table.frame[dims].itertuples(index=False, name=None),
                strict=True,
            )
        )
        # Keyed by tuples of codes in their stored form (a flat index: one dimension or two).
        now = pd.Series(
            table.frame[table.value].to_numpy(np.int64),
            index=pd.Index(
                list(stored_form.itertuples(index=False, name=None)), tupleize_cols=False
            ),
        )
        then = before.set_index(
            pd.Index(
                list(before[dims].map(_json_code).itertuples(index=False, name=None)),
                tupleize_cols=False,
            )
        )
        joined = pd.concat(
            [
                now.rename("now"),
                then["true_count"].astype(np.int64).rename("then"),
                then["shown_count"].rename("shown"),
            ],
            axis=1,
        )
        listed = joined["then"].notna()
        joined[["now", "then"]] = joined[["now", "then"]].fillna(0).astype(np.int64)
        fell = joined["now"] < joined["then"]
        if fell.any():
            raise ValueError(
                f"aggregate {name}: {int(fell.sum())} cell(s) count fewer records than in the "
                f"previous release (first {joined.index[fell][0]!r}); the tables are cumulative, "
                "so the record store lost records: investigate before publishing"
            )
        cells = pd.DataFrame([original[key] for key in joined.index], columns=dims)
        frame = pd.concat(
            [
                cells.assign(**{table.value: joined["then"].to_numpy(), RELEASE: PREVIOUS}),
                cells.assign(
                    **{table.value: (joined["now"] - joined["then"]).to_numpy(), RELEASE: NEW}
                ),
            ],
            ignore_index=True,
        )
        added[f"{name} by {RELEASE}"] = LinkedTable(
            frame, (*table.dimensions, RELEASE), table.value, published=False
        )
        for index, shown, was_listed in zip(joined.index, joined["shown"], listed, strict=True):
            codes = dict(zip(dims, original[index], strict=True))
            if was_listed and pd.isna(shown):
                continue  # hidden then: the reader knows only what the equations give
            value = float(shown) if was_listed else 0.0
            facts.append(KnownCell.exact({**codes, RELEASE: PREVIOUS}, value, "previous release"))
            current = bounds.get(_key(codes))
            if current is not None:
                facts.append(
                    KnownCell(
                        {**codes, RELEASE: NEW},
                        max(current.lower - value, 0.0),
                        current.upper - value,
                        "record file and previous release",
                    )
                )
    return added, facts
