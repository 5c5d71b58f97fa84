"""The scrubber's evaluations in the warehouse: recorded by `civic eval scrub`, read back by
the publish stage, in a database of the test session's PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typer.testing import CliRunner

from include.anonymization.pii.entities import ENTITY_TYPES
from include.anonymization.pii.version import scrubber_version
from include.cli.evaluate import NOT_RECORDED_EXIT, eval_app
from include.core.connections import WAREHOUSE_CONN_ID, env_var, get_connection
from include.publish.scrubber_statement import current_statement, statable
from include.scrubber_evaluations import (
    GENERATOR,
    REFERENCE_CORPORA,
    EvaluationRecord,
    latest_evaluations,
    record_evaluation,
)
from include.services.processes import free_port
from include.services.stack import LocalPlatform
from tests.unit.publish.inputs import generator_evaluation, reference_evaluation

pytestmark = pytest.mark.integration


@pytest.fixture
def database(platform: LocalPlatform, warehouse_dsn: str) -> Iterator[str]:
    """A fresh warehouse database owned by the pipeline's role: its DSN, as that role."""
    admin = platform.postgres().dsn()
    name = f"scrubber_eval_{uuid.uuid4().hex[:12]}"
    role = str(conninfo_to_dict(warehouse_dsn)["user"])
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(role)
            )
        )
    try:
        yield make_conninfo(warehouse_dsn, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _table_exists(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT to_regclass('pipeline.scrubber_evaluations')").fetchone()
    return row is not None and row[0] is not None


def test_without_any_evaluation_there_is_none_and_reading_creates_nothing(database: str) -> None:
    assert latest_evaluations(database, "pii-0123456789ab") == {
        GENERATOR: None,
        REFERENCE_CORPORA: None,
    }
    assert not _table_exists(database)


def test_a_recorded_evaluation_reads_back_whole(database: str) -> None:
    made = generator_evaluation()
    before = datetime.now(UTC)
    stored = record_evaluation(database, made)
    assert stored.id is not None
    assert stored.evaluated_at is not None
    assert before - timedelta(seconds=5) <= stored.evaluated_at <= datetime.now(UTC)
    assert replace(stored, id=None, evaluated_at=None) == made
    # json, not jsonb: the types keep the scrubber's order (the README lists them so).
    assert list(stored.figures["recall"]) == list(made.figures["recall"])
    assert list(stored.scrubber["packages"]) == list(made.scrubber["packages"])
    assert latest_evaluations(database, made.scrubber_version) == {
        GENERATOR: stored,
        REFERENCE_CORPORA: None,
    }


def test_the_latest_of_the_version_asked_for_comes_first_then_the_latest_of_any(
    database: str,
) -> None:
    ours = record_evaluation(database, replace(generator_evaluation(), scrubber_version="pii-a"))
    newer_other = record_evaluation(
        database, replace(generator_evaluation(), scrubber_version="pii-b")
    )
    corpus = record_evaluation(database, replace(reference_evaluation(), scrubber_version="pii-b"))
    assert latest_evaluations(database, "pii-a") == {GENERATOR: ours, REFERENCE_CORPORA: corpus}
    assert latest_evaluations(database, "pii-b")[GENERATOR] == newer_other
    # No evaluation of this version: the newest of any, which the release says is another's.
    assert latest_evaluations(database, "pii-c")[GENERATOR] == newer_other
    again = record_evaluation(database, replace(generator_evaluation(), scrubber_version="pii-a"))
    assert latest_evaluations(database, "pii-a")[GENERATOR] == again


def test_the_table_refuses_what_is_not_an_evaluation(database: str) -> None:
    record_evaluation(database, generator_evaluation())
    with pytest.raises(errors.CheckViolation), psycopg.connect(database) as conn:
        conn.execute(
            "INSERT INTO pipeline.scrubber_evaluations (kind, scrubber_version, scrubber, "
            "corpus, figures) VALUES ('guess', 'pii-a', '{}', '{}', '{}')"
        )
    with pytest.raises(errors.CheckViolation), psycopg.connect(database) as conn:
        conn.execute(
            "INSERT INTO pipeline.scrubber_evaluations (kind, scrubber_version, scrubber, "
            "corpus, figures) VALUES ('generator', 'pii-a', '{}', '{}', '[0.99]')"
        )
    with pytest.raises(ValueError, match="evaluation kind 'guess' is not one of"):
        EvaluationRecord("guess", "pii-a", {}, {})


def test_the_publish_stage_states_this_scrubber_and_what_is_on_record(database: str) -> None:
    version = scrubber_version()
    stored = record_evaluation(
        database, replace(generator_evaluation(), scrubber_version=version.id)
    )
    statement = current_statement(database)
    assert statement.version == version.id
    assert statement.components == version.components()
    assert statement.evaluations == {GENERATOR: stored, REFERENCE_CORPORA: None}
    assert statement.ledger_facts()["evaluations"] == {
        GENERATOR: "current",
        REFERENCE_CORPORA: "none",
    }


def test_an_evaluation_in_an_older_form_is_passed_over_never_fatal(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A row written by another version of `civic eval scrub` (figures with other keys) must
    not fail a release: the newest one a release can state is taken, or none."""
    good = record_evaluation(database, replace(generator_evaluation(), scrubber_version="pii-a"))
    made = replace(generator_evaluation(), scrubber_version="pii-a")
    older_form = {key: value for key, value in made.figures.items() if key != "covered"}
    newest = record_evaluation(database, replace(made, figures=older_form))
    corpus = reference_evaluation()
    no_counts = {k: v for k, v in corpus.figures.items() if k != "names_redacted"}
    record_evaluation(database, replace(corpus, scrubber_version="pii-a", figures=no_counts))
    assert latest_evaluations(database, "pii-a")[GENERATOR] == newest
    with caplog.at_level(logging.WARNING, logger="include.scrubber_evaluations"):
        usable = latest_evaluations(database, "pii-a", usable=statable)
    assert usable == {GENERATOR: good, REFERENCE_CORPORA: None}
    assert f"scrubber evaluation #{newest.id} (generator, pii-a) lacks figures" in caplog.text


def _cli_environment(platform: LocalPlatform, tmp_path: Path, dbname: str | None) -> dict:
    """`civic`'s environment: a local folder of its own, the warehouse in database `dbname`
    (None: a port nothing listens on)."""
    warehouse = get_connection(WAREHOUSE_CONN_ID, platform.process_env())
    if dbname is None:
        warehouse = replace(warehouse, host="127.0.0.1", port=free_port())
    else:
        warehouse = replace(warehouse, schema=dbname)
    return {"CIVIC_LOCAL_DIR": str(tmp_path), env_var(WAREHOUSE_CONN_ID): warehouse.to_json()}


def test_civic_eval_scrub_records_its_figures(
    platform: LocalPlatform, database: str, tmp_path: Path
) -> None:
    env = _cli_environment(platform, tmp_path, str(conninfo_to_dict(database)["dbname"]))
    args = ["scrub", "--n", "30", "--seed", "5", "--processes", "1"]
    result = CliRunner().invoke(eval_app, args, env=env)
    assert result.exit_code == 0, result.output
    # The only evaluation there. Its version is not recomputed here: others may be editing
    # the recognizers of this checkout meanwhile (test_version.py checks how it is made).
    stored = latest_evaluations(database, "pii-none")[GENERATOR]
    assert stored is not None
    assert stored.scrubber_version.startswith("pii-")
    assert f"scrubbing on 30 labelled texts (seed 5), scrubber {stored.scrubber_version}" in (
        result.stdout
    )
    assert f"of scrubber {stored.scrubber_version} in pipeline.scrubber_evaluations" in (
        result.stdout
    )
    assert stored.scrubber["model"] == "fr_core_news_md"
    assert stored.corpus == {"generator": "include.sample.texts.labelled_corpus", "seed": 5,
                             "texts": 30}  # fmt: skip
    assert f"evaluation #{stored.id} (generator)" in result.stdout
    assert set(stored.figures["recall"]) <= set(ENTITY_TYPES)
    assert sum(stored.figures["labelled"].values()) > 30
    assert 0.9 <= stored.figures["precision"] <= 1.0


def test_an_unreachable_warehouse_is_said_before_any_scrubbing(
    platform: LocalPlatform, tmp_path: Path
) -> None:
    env = _cli_environment(platform, tmp_path, None)
    result = CliRunner().invoke(eval_app, ["scrub", "--n", "30"], env=env)
    assert result.exit_code == NOT_RECORDED_EXIT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("civic eval scrub: cannot record the figures in the warehouse (")
    assert "--no-record" in lines[0]
    assert "PII scrubbing" not in result.stdout  # checked first: nothing was scrubbed
