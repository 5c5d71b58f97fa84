"""The collector under faults: a part that cannot be read leaves its series out, says so
in `civic_exporter_part_up`, and never fails the scrape or the other parts."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from include.audit import VerifyResult
from include.monitoring.collector import CivicCollector, ExporterParts
from include.monitoring.readers import LedgerReader, RawZoneState, Refreshed
from include.services.processes import free_port


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _broken_verification() -> VerifyResult:
    raise ConnectionError("injected: the vault holding the ledger's key does not answer")


def test_an_unreachable_ledger_leaves_the_other_parts_reported() -> None:
    # Nothing listens on this port: a real connection failure, not a mock.
    dead = f"postgresql://nobody@127.0.0.1:{free_port()}/civic?connect_timeout=2"
    parts = ExporterParts(
        sources=("signalements",),
        ledger=LedgerReader(dead, ("signalements",)),
        verification=Refreshed(_broken_verification, 30),
        raw_zone=Refreshed(lambda: RawZoneState(objects=4, unencrypted=1), 30),
        airflow=None,
    )
    registry = CollectorRegistry()
    registry.register(CivicCollector(parts))
    samples = _samples(registry)

    up = {
        dict(labels)["part"]: value
        for (name, labels), value in samples.items()
        if name == "civic_exporter_part_up"
    }
    assert up == {"ledger": 0, "ledger_verification": 0, "raw_zone": 1, "airflow": 0}
    assert samples[("civic_raw_zone_unencrypted_objects", ())] == 1
    names = {name for name, _ in samples}
    assert not names & {"civic_ledger_verified", "civic_ledger_entries", "civic_run_rows"}
    ages = [k for k in samples if k[0] == "civic_exporter_part_age_seconds"]
    assert {dict(labels)["part"] for _, labels in ages} == {"ledger_verification", "raw_zone"}
    # The next scrape reads the ledger again (a failure is never kept as a value).
    assert _samples(registry)[("civic_exporter_part_up", (("part", "ledger"),))] == 0


def test_a_refreshed_value_is_recomputed_in_the_background() -> None:
    calls: list[float] = []
    gate = threading.Event()

    def compute() -> int:
        calls.append(time.monotonic())
        if len(calls) == 3:
            gate.set()
        return len(calls)

    every = Refreshed(compute, every=0.05)
    assert every.get() == 1  # the first call waits for the first computation
    assert gate.wait(5)  # then it runs again without anyone asking
    assert every.get() >= 3
    assert all(b - a >= 0.04 for a, b in itertools.pairwise(calls))
    every.stop()

    slow = Refreshed(compute, every=3600)
    first = slow.get()
    assert slow.get() == first  # not recomputed within its period
    age = slow.age()
    assert age is not None
    assert age < 5
    slow.stop()


def test_a_failed_refresh_is_raised_until_one_succeeds() -> None:
    outcomes: list[Exception | int] = [ConnectionError("injected: down"), 7]

    def compute() -> int:
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    part = Refreshed(compute, every=0.05)
    with pytest.raises(ConnectionError, match="injected"):
        part.get()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            assert part.get() == 7
            break
        except ConnectionError:
            time.sleep(0.02)
    else:
        pytest.fail("the part never recovered")
    part.stop()
