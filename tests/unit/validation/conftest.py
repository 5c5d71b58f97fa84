"""Realistic tables for the validation gate, made by the platform's own producers.

The curated table comes out of the real k-anonymity search (`anonymize`) over seeded
synthetic consultation replies, with a real keyed pseudonym standing in for the e-mail;
the aggregates come out of the real aggregation and joint cell suppression
(`include.warehouse.aggregates.protect_all`) over a small batch of the same records (so that some
cells are small and suppressed). So "a valid table passes"
means: what the pipeline actually produces passes.
Session fixtures build them once; the function fixtures hand every test its own copy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from include.anonymization.kanonymity import anonymize
from include.anonymization.pseudonyms import Pseudonymizer, pseudonym_column
from include.core.source_config import SourceConfig, load_all_sources
from include.warehouse.aggregates import protect_all

POSTCODES = ["75011", "75015", "69003", "69007", "13005", "13008", "33000", "31000", "59000"]
OPINIONS = [
    "Il faudrait plus de bus le soir vers la gare.",
    "Merci à <PERSON> pour son aide, joignable au <PHONE_NUMBER>.",
    "Les pistes cyclables du 11e sont dangereuses (écrire à <EMAIL_ADDRESS>).",
    None,
]


@pytest.fixture(scope="session")
def sources() -> dict[str, SourceConfig]:
    return load_all_sources()


@pytest.fixture(scope="session")
def consultation(sources: dict[str, SourceConfig]) -> SourceConfig:
    return sources["consultation"]


@pytest.fixture(scope="session")
def _records(consultation: SourceConfig) -> pd.DataFrame:
    """Scrubbed, pseudonymized consultation replies, before any generalization."""
    rng = np.random.default_rng(20261125)
    rows = 1500
    pseudonymizer = Pseudonymizer.from_secret("test-key-" + "x" * 32)
    return pd.DataFrame(
        {
            "response_id": [f"r-{i:05d}" for i in range(rows)],
            "submitted_at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 180 * 86400, rows), unit="s"),
            "age": rng.integers(18, 90, rows),
            "gender": rng.choice(["F", "M", "X"], rows, p=[0.48, 0.48, 0.04]),
            "postcode": rng.choice(POSTCODES, rows),
            "occupation": rng.choice(consultation.field("occupation").allowed, rows),
            "q_transports": rng.integers(1, 6, rows),
            "q_velo": rng.integers(1, 6, rows),
            "q_pietons": rng.integers(1, 6, rows),
            "opinion": rng.choice(np.array(OPINIONS, dtype=object), rows),
            pseudonym_column("respondent_email"): [
                pseudonymizer.pseudonym(f"repondant{i % 1400}@exemple.fr", "consultation", "email")
                for i in range(rows)
            ],
        }
    )


@pytest.fixture(scope="session")
def _curated(consultation: SourceConfig, _records: pd.DataFrame) -> pd.DataFrame:
    published, _ = anonymize(consultation, _records)
    return published


@pytest.fixture(scope="session")
def _aggregates(consultation: SourceConfig, _records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    batch = _records.head(200)
    return {protected.name: protected.cells for protected in protect_all(batch, consultation)}


@pytest.fixture(scope="session")
def signalements(sources: dict[str, SourceConfig]) -> SourceConfig:
    return sources["signalements"]


@pytest.fixture(scope="session")
def _reports(signalements: SourceConfig) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The signalements source: its curated table and aggregates (an optional commune)."""
    rng = np.random.default_rng(11)
    rows = 600
    pseudonymizer = Pseudonymizer.from_secret("test-key-" + "y" * 32)
    records = pd.DataFrame(
        {
            "submission_id": [f"s-{i:05d}" for i in range(rows)],
            "submitted_at": pd.Timestamp("2026-02-01", tz="Europe/Paris")
            + pd.to_timedelta(rng.integers(0, 60 * 86400, rows), unit="s"),
            "category": rng.choice(signalements.field("category").allowed, rows),
            "description": rng.choice(np.array(OPINIONS[:3], dtype=object), rows),
            "commune": rng.choice(np.array(["Paris", "Lyon", None], dtype=object), rows),
            "postcode": rng.choice(POSTCODES, rows),
            "channel": rng.choice(signalements.field("channel").allowed, rows),
            pseudonym_column("reporter_email"): [
                pseudonymizer.pseudonym(f"declarant{i % 90}@exemple.fr", "signalements", "email")
                for i in range(rows)
            ],
        }
    )
    published, _ = anonymize(signalements, records)
    tables = {protected.name: protected.cells for protected in protect_all(records, signalements)}
    return published, tables


@pytest.fixture
def curated(_curated: pd.DataFrame) -> pd.DataFrame:
    """A valid curated table of the consultation source (the test's own copy)."""
    return _curated.copy()


@pytest.fixture
def reports(
    _reports: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """A valid curated table and the aggregates of the signalements source (copies)."""
    curated, tables = _reports
    return curated.copy(), {name: table.copy() for name, table in tables.items()}


@pytest.fixture
def aggregates(_aggregates: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The consultation's valid aggregates, cells and margins (the test's own copies)."""
    return {name: table.copy() for name, table in _aggregates.items()}
