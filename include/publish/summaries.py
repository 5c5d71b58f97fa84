"""The summaries that travel with a release, checked and reduced to plain JSON.

The publisher does not recompute the anonymization; it states what the
anonymization step reports, next to what it measures itself (`privacy_gates`).
The record-level summary is a dict with at least:

- `levels`: quasi-identifier name → the generalization level chosen for it
  (`"exact"`, `"bands of 10"`, `"département"`, `"quarter"`, `"*"`...);
- `suppressed_records`: records dropped because they could not be protected;

and usually `records`, `k`, `classes`, `class_sizes`, `metric` (the measure the
search minimized, which must be the source's), `information_loss`,
`max_risk`, `average_risk` (copied to the manifest as given).
`summarize_anonymization` builds it from an `AnonymizationResult`.

An aggregate's summary is `SuppressionSummary.as_dict()`; its `audit_passed`
must be true (the linear-programming audit found no hidden cell recoverable). For a
source using the cell key method it is `CellKeySummary.as_dict()`, whose parameters and
ptable fingerprint must be those of the source's config (`check_cell_key_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from include.anonymization.kanonymity import AnonymizationResult
from include.core.source_config import CellKeyDisclosure, SourceConfig
from include.publish.errors import PublicationBlockedError
from include.publish.jsonfile import JSON, plain_json_object
from include.warehouse.cell_key_aggregates import perturbation_table

# What a release states of a cell-key aggregate. The deviations stay in the audit ledger:
# on a small table, a mean |deviation| beside the published counts narrows the truth down.
CELL_KEY_PUBLIC = ("method", "max_noise", "variance", "js", "ptable")


def summarize_anonymization(result: AnonymizationResult) -> dict[str, Any]:
    """The record-level summary, in the form `build_release` expects, from the search result."""
    return {
        "records": result.n_records,
        "suppressed_records": result.n_suppressed,
        "levels": {name: result.level_names[name] for name in result.quasi_identifiers},
        "k": result.min_class_size if result.class_sizes else None,
        "classes": result.n_classes,
        "class_sizes": {str(size): n for size, n in sorted(result.class_sizes.items())},
        "metric": result.metric.as_dict(),
        "information_loss": result.information_loss,
        "generalization_loss": result.generalization_loss,
        "max_risk": result.max_risk,
        "average_risk": result.average_risk,
    }


@dataclass(frozen=True)
class AnonymizationSummary:
    """The checked record-level summary: the fields the release reads, and all of it as JSON."""

    levels: dict[str, str]
    suppressed_records: int
    data: dict[str, JSON]


def check_anonymization_summary(
    config: SourceConfig, summary: Mapping[str, Any]
) -> AnonymizationSummary:
    """The checked summary, or ValueError naming what is missing or wrong."""
    data = plain_json_object(summary, "anonymization")
    missing = [key for key in ("levels", "suppressed_records") if key not in data]
    if missing:
        raise ValueError(
            f"source '{config.name}': the anonymization summary lacks {missing}; build it "
            "with summarize_anonymization(result)"
        )
    levels = data["levels"]
    expected = sorted(spec.name for spec in config.quasi_identifiers)
    if not isinstance(levels, dict) or sorted(levels) != expected:
        raise ValueError(
            f"source '{config.name}': the summary's 'levels' must name exactly the "
            f"quasi-identifiers {expected}, got {levels!r}"
        )
    names = {name: level for name, level in levels.items() if isinstance(level, str)}
    if len(names) != len(levels):
        raise ValueError(f"source '{config.name}': generalization levels must be names")
    suppressed = data["suppressed_records"]
    if not isinstance(suppressed, int) or isinstance(suppressed, bool) or suppressed < 0:
        raise ValueError(
            f"source '{config.name}': 'suppressed_records' must be a count, got {suppressed!r}"
        )
    measure = config.information_loss.spec.as_dict()
    if "metric" in data and data["metric"] != measure:
        raise ValueError(
            f"source '{config.name}': the records were generalized minimizing "
            f"{data['metric']!r}, but the source's config asks for {measure!r}; anonymize "
            "again with the config being published"
        )
    return AnonymizationSummary(levels=names, suppressed_records=suppressed, data=data)


def check_suppression_summary(table: str, summary: Mapping[str, Any]) -> dict[str, JSON]:
    """The aggregate's summary as plain JSON; blocks publication unless its audit passed."""
    data = plain_json_object(summary, f"aggregate {table} summary")
    if "audit_passed" not in data:
        raise ValueError(
            f"aggregate '{table}': its summary lacks 'audit_passed'; pass "
            "ProtectedFrame.summary().as_dict()"
        )
    if data["audit_passed"] is not True:
        raise PublicationBlockedError(
            f"aggregate '{table}': the suppression audit did not pass (some hidden cell can "
            "be recovered from the published ones); it must not be published"
        )
    return data


def check_cell_key_summary(
    table: str, summary: Mapping[str, Any], disclosure: CellKeyDisclosure
) -> dict[str, JSON]:
    """What the release states of a cell-key aggregate's perturbation (`CELL_KEY_PUBLIC`),
    after checking that it was perturbed with the source's own ptable: same parameters,
    same fingerprint (a ptable solved differently would move cells near its bounds)."""
    data = plain_json_object(summary, f"aggregate {table} summary")
    missing = [key for key in CELL_KEY_PUBLIC if key not in data]
    if missing or data.get("method") != "cell_key":
        raise ValueError(
            f"aggregate '{table}': its summary is not a cell key summary (method "
            f"{data.get('method')!r}, missing {missing}); pass CellKeySummary.as_dict()"
        )
    expected = {
        "max_noise": disclosure.max_noise,
        "variance": disclosure.variance,
        "js": disclosure.js,
        "ptable": perturbation_table(disclosure).fingerprint,
    }
    differ = {key: (data[key], value) for key, value in expected.items() if data[key] != value}
    if differ:
        found = ", ".join(f"{k}: {got!r}, expected {want!r}" for k, (got, want) in differ.items())
        raise PublicationBlockedError(
            f"aggregate '{table}': perturbed with another ptable than the source's config "
            f"gives ({found}); it must not be published"
        )
    return {key: data[key] for key in CELL_KEY_PUBLIC}
