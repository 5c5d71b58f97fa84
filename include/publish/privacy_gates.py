"""Last checks on the exact rows about to be published; any failure blocks the release.

The anonymization and suppression steps upstream already enforce k, l and the
minimum cell size (or, for a source using the cell key method, publish every count
perturbed, none in 1..js: `check_perturbed_cells`). They are checked again here, on
the very rows written to the public files, because "fail closed" must hold even if
a later step (a join, a filter, a quarantine) changed the data after those steps ran.
The figures measured here are the ones the manifest and README state as achieved, so a
published claim is always true of the published file.

k is the smallest number of records sharing one combination of
quasi-identifier values. l is, for distinct l-diversity, the smallest number of
distinct values of a sensitive field within one combination; for entropy
l-diversity, exp of the smallest entropy, compared with the same safety margin
as the anonymization step (`criteria.ENTROPY_MARGIN`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from include.anonymization.attacker_view import AttackerView
from include.anonymization.cell_suppression import Reason
from include.anonymization.criteria import ENTROPY_MARGIN
from include.publish.errors import PublicationBlockedError

SUPPRESSION_COLUMNS = ("count", "suppressed", "suppression_reason")
REASONS = tuple(reason.value for reason in Reason)


@dataclass(frozen=True)
class MeasuredPrivacy:
    """k and l as measured on the published records (None: nothing to measure)."""

    k: int | None
    l_diversity: int | float | None  # int for distinct l, float (6 decimals) for entropy l
    smallest_entropy: float | None  # entropy l-diversity only


def measure_privacy(
    records: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    l_kind: str,
) -> MeasuredPrivacy:
    """Smallest class size and l (as `l_kind` defines it) over the classes of `records`."""
    if records.empty or not quasi_identifiers:
        size = None if records.empty else len(records)
        return MeasuredPrivacy(k=size, l_diversity=None, smallest_entropy=None)
    keys = list(quasi_identifiers)
    k = int(records.groupby(keys, dropna=False, sort=False).size().min())
    if not sensitive:
        return MeasuredPrivacy(k=k, l_diversity=None, smallest_entropy=None)
    if l_kind == "distinct":
        smallest = min(
            int(records.groupby(keys, dropna=False, sort=False)[name].nunique(dropna=False).min())
            for name in sensitive
        )
        return MeasuredPrivacy(k=k, l_diversity=smallest, smallest_entropy=None)
    entropy = min(_smallest_entropy(records, keys, name) for name in sensitive)
    return MeasuredPrivacy(k=k, l_diversity=round(math.exp(entropy), 6), smallest_entropy=entropy)


def _smallest_entropy(records: pd.DataFrame, keys: list[str], sensitive: str) -> float:
    """Smallest entropy (natural log) of one sensitive field's values over the classes."""
    pairs = records.groupby([*keys, sensitive], dropna=False, sort=False).size()
    counts = pairs.to_numpy(dtype=np.float64)
    classes = pairs.index.droplevel(sensitive)
    frame = pd.DataFrame({"n": counts, "nlogn": counts * np.log(counts)}, index=classes)
    per_class = frame.groupby(level=list(range(len(keys))), dropna=False, sort=False).sum()
    sizes = per_class["n"].to_numpy()
    return float((np.log(sizes) - per_class["nlogn"].to_numpy() / sizes).min())


def require_privacy(
    table: str, measured: MeasuredPrivacy, k: int, l_required: int, l_kind: str
) -> None:
    """Raise `PublicationBlockedError` unless the measured k and l meet the source's."""
    if measured.k is not None and measured.k < k:
        raise PublicationBlockedError(
            f"table '{table}': the records to publish give k={measured.k}, below the "
            f"required k={k}; some combination of quasi-identifiers is shared by fewer than "
            f"{k} records. Re-run the anonymization on these exact rows"
        )
    if l_required <= 1 or measured.l_diversity is None:
        return
    if measured.smallest_entropy is None:
        failed = measured.l_diversity < l_required
    else:
        failed = measured.smallest_entropy < math.log(l_required) + ENTROPY_MARGIN
    if failed:
        raise PublicationBlockedError(
            f"table '{table}': the records to publish give {l_kind} "
            f"l={measured.l_diversity:g}, below the required l={l_required}; a class's "
            "sensitive values are too uniform. Re-run the anonymization on these exact rows"
        )


def require_sample_uniques(table: str, view: AttackerView, max_share: float | None) -> None:
    """Block a record file where more records than the source accepts are alone on some
    combination of up to three published columns (each such record is singled out by
    whoever knows those few facts about its author)."""
    uniques = view.sample_uniques
    if max_share is None or uniques.share <= max_share:
        return
    worst = f"; most often on {' x '.join(uniques.worst[0][0])}" if uniques.worst else ""
    raise PublicationBlockedError(
        f"table '{table}': {uniques.unique_records} of {uniques.records} records "
        f"({uniques.share:.1%}) are alone on some combination of up to 3 published columns"
        f"{worst}, above the source's max_sample_unique_share of {max_share:.1%}. Publish "
        "those columns coarser (or not at all), or raise the threshold knowingly"
    )


def require_attacker_k(table: str, view: AttackerView, k: int) -> None:
    """Block a record file that an attacker can group below k, or that holds a column
    identifying like an undeclared quasi-identifier (see `attacker_view`)."""
    if view.inferred:
        found = "; ".join(f"'{q.column}' ({q.reason})" for q in view.inferred)
        raise PublicationBlockedError(
            f"table '{table}': the records to publish hold columns that identify like "
            f"quasi-identifiers without being declared ones: {found}. Declare them "
            "quasi_identifier with a hierarchy in the source config, or withhold them"
        )
    if view.k_with_inferred is not None and view.k_with_inferred < k:
        raise PublicationBlockedError(
            f"table '{table}': grouped on its published columns as an attacker would, the "
            f"records to publish give k={view.k_with_inferred}, below the required k={k}"
        )


def check_suppressed_cells(table: str, frame: pd.DataFrame, min_count: int) -> dict[str, int]:
    """Check an aggregate's suppression columns; return the hidden cells by reason.

    Blocks when a hidden cell still shows its count, when a shown cell has a reason other
    than `known`, or when a shown count is below the minimum cell size (and above zero)
    without that reason: `known` marks a small count shown because the record-level file of
    the same release gives it exactly (`include.warehouse.record_file_bounds`).
    """
    missing = [c for c in SUPPRESSION_COLUMNS if c not in frame.columns]
    if missing:
        raise PublicationBlockedError(
            f"aggregate '{table}' lacks the columns {missing}; protect it with "
            "protect_count_frame before publishing"
        )
    flags = frame["suppressed"]
    if flags.isna().any() or not all(isinstance(v, bool | np.bool_) for v in flags.unique()):
        raise PublicationBlockedError(
            f"aggregate '{table}': column 'suppressed' must be true/false on every row"
        )
    hidden = flags.astype(bool)
    counts = frame["count"]
    reasons = frame["suppression_reason"]
    problems = []
    shown_on_hidden = int((hidden & counts.notna()).sum())
    if shown_on_hidden:
        problems.append(f"{shown_on_hidden} suppressed cell(s) still show a count")
    missing_on_shown = int((~hidden & counts.isna()).sum())
    if missing_on_shown:
        problems.append(f"{missing_on_shown} published cell(s) have no count")
    given = (reasons == Reason.KNOWN.value).fillna(False).to_numpy(dtype=bool)
    if int((hidden & reasons.isna()).sum()):
        problems.append("every suppressed cell must give its 'suppression_reason'")
    if int((hidden & given).sum()):
        problems.append(f"a suppressed cell cannot have the reason '{Reason.KNOWN.value}'")
    if int((~hidden & reasons.notna() & ~given).sum()):
        problems.append(
            f"a published cell has no 'suppression_reason' unless '{Reason.KNOWN.value}'"
        )
    unknown = sorted(set(reasons.dropna().astype(str)) - set(REASONS))
    if unknown:
        problems.append(f"unknown suppression reasons {unknown} (known: {list(REASONS)})")
    shown = pd.to_numeric(counts[~hidden & ~given], errors="coerce")
    small = int(((shown > 0) & (shown < min_count)).sum())
    if small:
        problems.append(f"{small} published count(s) between 1 and {min_count - 1}")
    negative = int((shown < 0).sum())
    if negative:
        problems.append(f"{negative} negative count(s)")
    if problems:
        raise PublicationBlockedError(
            f"aggregate '{table}' is not safe to publish: {'; '.join(problems)}. Re-run the "
            "cell suppression on this exact table"
        )
    by_reason = reasons[hidden].astype(str).value_counts()
    return {reason: int(by_reason.get(reason, 0)) for reason in REASONS if reason in by_reason}


def check_perturbed_cells(table: str, frame: pd.DataFrame, js: int) -> None:
    """Check a cell-key aggregate (`include.warehouse.cell_key_aggregates`): nothing hidden, every
    count a whole number >= 0, and none in 1..js when the source sets js > 0.

    Small counts are published (perturbed) by this method, so there is no minimum cell
    size to check; what must hold is that no cell was hidden after all (a hidden cell next
    to perturbed ones would say where the small counts are) and that js is kept.
    """
    missing = [c for c in SUPPRESSION_COLUMNS if c not in frame.columns]
    if missing:
        raise PublicationBlockedError(
            f"aggregate '{table}' lacks the columns {missing}; protect it with "
            "protect_source before publishing"
        )
    problems = []
    flags = frame["suppressed"]
    if flags.isna().any() or flags.astype(bool).any():
        problems.append("cells flagged suppressed (the cell key method hides nothing)")
    if frame["suppression_reason"].notna().any():
        problems.append("cells with a suppression reason")
    counts = pd.to_numeric(frame["count"], errors="coerce")
    if counts.isna().any():
        problems.append(f"{int(counts.isna().sum())} cell(s) without a count")
    shown = counts.dropna()
    if (shown != shown.round()).any():
        problems.append("counts that are not whole numbers")
    negative = int((shown < 0).sum())
    if negative:
        problems.append(f"{negative} negative count(s)")
    small = int(((shown >= 1) & (shown <= js)).sum())
    if small:
        problems.append(f"{small} published count(s) between 1 and js={js}")
    if problems:
        raise PublicationBlockedError(
            f"aggregate '{table}' is not safe to publish: {'; '.join(problems)}. Re-run the "
            "cell key perturbation on this exact table"
        )
