"""The `civic` command as a user meets it: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CIVIC = Path(sys.executable).with_name("civic")
COMMANDS = [
    [],
    ["services"],
    ["services", "up"],
    ["services", "down"],
    ["services", "status"],
    ["sample"],
    ["demo"],
    ["audit"],
    ["audit", "verify"],
    ["audit", "show"],
    ["audit", "public-key"],
    ["scrub"],
    ["eval"],
    ["eval", "scrub"],
]


def civic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CIVIC), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "civic")
def test_every_command_has_help(command: list[str]) -> None:
    result = civic(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: civic" in result.stdout
    assert "--help" in result.stdout


def test_bad_setting_is_one_line_error(tmp_path: Path) -> None:
    result = civic(
        "services", "status", env={"CIVIC_S3_SSE": "rot13", "CIVIC_LOCAL_DIR": str(tmp_path)}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: CIVIC_S3_SSE:")


def test_sample_without_services_says_what_to_do(tmp_path: Path) -> None:
    env = {"CIVIC_LOCAL_DIR": str(tmp_path)}
    env_clear = {k: "" for k in os.environ if k.startswith("AIRFLOW_CONN_")}
    result = civic("sample", "--source", "signalements", "--rows", "5", env={**env_clear, **env})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "civic services up" in result.stderr


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    result = civic("sample", "--source", "inconnue", env={"CIVIC_LOCAL_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "unknown source(s) ['inconnue']" in result.stderr


def test_starting_civic_loads_no_nlp_model() -> None:
    """`civic --help` and every quick command must not pay spaCy/Presidio's seconds."""
    code = (
        "import sys, include.cli.main; "
        "heavy = [m for m in ('spacy', 'presidio_analyzer', 'great_expectations') "
        "if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
