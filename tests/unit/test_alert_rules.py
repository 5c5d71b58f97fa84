"""The alert rules (deploy/prometheus/rules/civic.yml) and their runbooks (docs/runbooks/).

- `promtool check rules` and `promtool test rules` (Debian's `prometheus` package ships
  promtool; `make monitoring` installs it) on the repository's files, and the unit tests
  shown to catch a broken rule: each mutation in RULE_MUTATIONS (a threshold, a floor, a
  minimum of runs, a `for:`, a label) must make `promtool test rules` fail on that alert.
- Without promtool: the rules' structure against the monitoring contract
  (tests/monitoring_contract.py): one alert per row of its table with that severity and
  runbook, annotations French first then English, only contract metrics and labels.
- The runbooks: one page per alert with the six sections in order, every heading French
  first then English, an index linking them, links that resolve, and the `civic` and
  `airflow` commands they show parsed by the real command lines (Typer's for `civic`,
  Airflow's argparse parser in a child process for `airflow`). Their SQL runs on a real
  PostgreSQL in tests/integration/test_runbooks.py.

Each static check is a function returning the problems it found, so that
`test_each_check_catches` can break a copy of the files once per check and see it report.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from tests.monitoring_contract import (
    ALERTS,
    EXPORTER_JOB,
    Selector,
    promql_selectors,
    selector_problems,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "civic.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "rules" / "tests" / "civic_test.yml"
RUNBOOKS = ROOT / "docs" / "runbooks"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian package `prometheus`; `make monitoring` "
    "installs it): the rules' unit tests cannot run",
)

# The sections of an alert's runbook, in order: (French, English).
SECTIONS = (
    ("Ce que cela signifie", "What it means"),
    ("Premières vérifications", "First checks"),
    ("Arrêter la publication", "Stop publication"),
    ("Retirer une publication", "Withdraw a release"),
    ("Qui prévenir", "Whom to notify"),
    ("Clore l'incident", "How to close"),
)
# Words that tell a heading's French half from its English half: the French half has an
# accented letter or one of these; the English half has neither accents nor the function words.
FRENCH_WORDS = frozenset(
    {"le", "la", "les", "l", "un", "une", "des", "de", "du", "d", "qui", "que", "ce", "cela"}
    | {"et", "à", "au", "aux", "en", "pour", "sur", "ne", "pas", "est", "sont", "quand"}
    | {"retirer", "reprendre", "trouver", "mettre", "lancer", "tester", "vérifier"}
)
FRENCH_FUNCTION_WORDS = FRENCH_WORDS - {"a", "on", "en"}
ACCENTED = re.compile(r"[àâäçéèêëîïôöùûüÿœæ]", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass
class Monitoring:
    """The rules file and the runbooks folder, as read from these paths."""

    rules: Path
    runbooks: Path

    @property
    def alerts(self) -> dict[str, dict[str, Any]]:
        data = yaml.safe_load(self.rules.read_text(encoding="utf-8"))
        found = {}
        for group in data.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    found[rule["alert"]] = rule
        return found

    def page(self, name: str) -> str:
        return (self.runbooks / name).read_text(encoding="utf-8")

    def pages(self) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(self.runbooks.glob("*.md"))}


def repo() -> Monitoring:
    return Monitoring(RULES, RUNBOOKS)


# -- the rules -----------------------------------------------------------------------------


def bilingual_problems(text: str, where: str) -> list[str]:
    """`text` is "<French> / <English>": both halves present, French first."""
    french, sep, english = text.partition(" / ")
    if not sep or not french.strip() or not english.strip():
        return [f"{where}: not '<français> / <English>': {text!r}"]
    problems = []
    french_words = {w.lower() for w in WORD.findall(french)}
    english_words = {w.lower() for w in WORD.findall(english)}
    if not (ACCENTED.search(french) or french_words & FRENCH_WORDS):
        problems.append(f"{where}: the first half does not read as French: {french!r}")
    if ACCENTED.search(english) or english_words & FRENCH_FUNCTION_WORDS:
        problems.append(f"{where}: the second half does not read as English: {english!r}")
    return problems


def rule_problems(monitoring: Monitoring) -> list[str]:
    """One alert per row of the contract's table, as the table says, and nothing else."""
    alerts = monitoring.alerts
    problems = [f"{name}: no such alert in the rules" for name in ALERTS if name not in alerts]
    problems += [f"{name}: not in the contract's table" for name in alerts if name not in ALERTS]
    for name, rule in alerts.items():
        if name not in ALERTS:
            continue
        page, severity = ALERTS[name]
        labels = rule.get("labels") or {}
        annotations = rule.get("annotations") or {}
        if labels.get("severity") != severity:
            problems.append(f"{name}: severity {labels.get('severity')!r}, expected {severity}")
        if "for" not in rule:
            problems.append(f"{name}: no `for:` (write `for: 0m` for an alert that fires at once)")
        if annotations.get("runbook_url") != f"docs/runbooks/{page}":
            problems.append(f"{name}: runbook_url is not docs/runbooks/{page}")
        elif not (monitoring.runbooks / page).is_file():
            problems.append(f"{name}: its runbook docs/runbooks/{page} does not exist")
        for key in ("summary", "description"):
            if not annotations.get(key):
                problems.append(f"{name}: no {key}")
            else:
                problems += bilingual_problems(" ".join(annotations[key].split()), f"{name} {key}")
    return problems


TEMPLATE_QUERY = re.compile(r'printf\s+"((?:[^"\\]|\\.)*)"')


def rule_selectors(rule: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, expression) of a rule's expression and of its annotations' template queries."""
    found = [(f"{rule['alert']} expr", str(rule["expr"]))]
    for key, text in (rule.get("annotations") or {}).items():
        for match in TEMPLATE_QUERY.finditer(str(text)):
            query = match.group(1).replace('\\"', '"')
            found.append((f"{rule['alert']} {key} query", query))
    return found


def metric_problems(monitoring: Monitoring) -> list[str]:
    """Every series the rules read is a contract metric with its labels; `up` only for the
    exporter's job."""
    problems = []
    for rule in monitoring.alerts.values():
        for where, expr in rule_selectors(rule):
            problems += selector_problems(expr, where)
            if any(s.metric == "up" for s in promql_selectors(expr)) and (
                f'job="{EXPORTER_JOB}"' not in expr.replace(" ", "")
            ):
                problems.append(f'{where}: `up` without job="{EXPORTER_JOB}"')
    return problems


# -- the runbooks --------------------------------------------------------------------------

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.MULTILINE)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of every Markdown heading outside code blocks."""
    return [(len(m.group(1)), m.group(2)) for m in HEADING.finditer(FENCE.sub("", text))]


def heading_problems(monitoring: Monitoring) -> list[str]:
    """Every heading of every page French first, then English."""
    problems = []
    for name, text in monitoring.pages().items():
        for _, heading in headings(text):
            problems += bilingual_problems(heading, f"docs/runbooks/{name}: heading")
    return problems


def page_problems(monitoring: Monitoring) -> list[str]:
    """Each alert's page: titled with the alert, the six sections, in order, once each."""
    problems = []
    wanted = [f"{french} / {english}" for french, english in SECTIONS]
    for alert, (page, _) in ALERTS.items():
        path = monitoring.runbooks / page
        if not path.is_file():
            problems.append(f"docs/runbooks/{page} ({alert}) is missing")
            continue
        found = headings(path.read_text(encoding="utf-8"))
        titles = [text for level, text in found if level == 1]
        if len(titles) != 1 or not titles[0].startswith(alert + " "):
            problems.append(f"docs/runbooks/{page}: its one title must name {alert}: {titles}")
        sections = [text for level, text in found if level == 2]
        if sections != wanted:
            problems.append(f"docs/runbooks/{page}: sections {sections}, expected {wanted}")
    return problems


def link_problems(monitoring: Monitoring) -> list[str]:
    """The index links every alert's page; every relative link of every page resolves."""
    problems = []
    index = monitoring.runbooks / "README.md"
    if not index.is_file():
        return ["docs/runbooks/README.md (the index) is missing"]
    linked = {link.split("#")[0] for link in LINK.findall(index.read_text(encoding="utf-8"))}
    problems += [
        f"docs/runbooks/README.md does not link {page}"
        for page, _ in ALERTS.values()
        if page not in linked
    ]
    for name, text in monitoring.pages().items():
        for link in LINK.findall(text):
            target, _, anchor = link.partition("#")
            if re.match(r"^[a-z]+:", target):
                continue
            path = (monitoring.runbooks / target) if target else monitoring.runbooks / name
            if not path.exists():
                problems.append(f"docs/runbooks/{name} links {link}, which does not exist")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                problems.append(f"docs/runbooks/{name} links {link}: no such heading")
    return problems


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to -."""
    return {
        re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        for _, text in headings(path.read_text(encoding="utf-8"))
    }


def command_lines(text: str, program: str) -> list[list[str]]:
    """The arguments of every `program …` command in the page's shell code blocks (after
    `.venv/bin/` or `docker compose … exec <service>`)."""
    found = []
    for language, body in FENCE.findall(text):
        if language not in ("sh", "bash", "shell", ""):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            for i, word in enumerate(words):
                if word.rsplit("/", 1)[-1] == program and (
                    i == 0 or words[:2] == ["docker", "compose"]
                ):
                    found.append(words[i + 1 :])
                    break
    return found


def civic_problems(args: list[str]) -> str | None:
    """Why `civic <args>` would be refused by the command line, or None."""
    from include.cli.main import app

    command: Any = typer.main.get_command(app)
    name, parent, rest = "civic", None, list(args)
    try:
        while True:
            ctx = command.make_context(name, rest, parent=parent)
            if not hasattr(command, "resolve_command"):
                return None
            pending = getattr(ctx, "_protected_args", None)
            if pending is None:
                pending = ctx.protected_args
            name, command, rest = command.resolve_command(ctx, [*pending, *ctx.args])
            parent = ctx
    except Exception as exc:  # the CLI's usage errors: unknown command, option, missing argument
        message = getattr(exc, "format_message", None)
        return message() if callable(message) else str(exc)


def civic_command_problems(monitoring: Monitoring) -> list[str]:
    problems = []
    for name, text in monitoring.pages().items():
        for args in command_lines(text, "civic"):
            problem = civic_problems(args)
            if problem:
                problems.append(f"docs/runbooks/{name}: civic {shlex.join(args)}: {problem}")
    return problems


# Airflow's own parser, in a child process: importing Airflow here would configure it before
# the test session's platform has set the environment it must see (tests/conftest.py).
AIRFLOW_PROBE = """
import contextlib, io, json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
out = {}
for args in json.load(sys.stdin):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(args)
        out[json.dumps(args)] = None
    except SystemExit:
        out[json.dumps(args)] = (err.getvalue().strip().splitlines() or ["refused"])[-1]
print(json.dumps(out))
"""


def airflow_refusals(lines: list[list[str]]) -> dict[str, str | None]:
    """Each argument list (as JSON) -> Airflow's parser's error, or None when it parses."""
    with tempfile.TemporaryDirectory(prefix="civic-airflow-cli-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False")
        result = subprocess.run(
            [sys.executable, "-c", AIRFLOW_PROBE],
            input=json.dumps(lines),
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )
    assert result.returncode == 0, f"Airflow's parser could not be loaded:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def airflow_command_problems(monitoring: Monitoring) -> list[str]:
    where: dict[str, list[str]] = {}
    for name, text in monitoring.pages().items():
        for args in command_lines(text, "airflow"):
            where.setdefault(json.dumps(args), []).append(name)
    if not where:
        return ["the runbooks show no airflow command"]
    refusals = airflow_refusals([json.loads(args) for args in where])
    return [
        f"docs/runbooks/{', '.join(sorted(set(where[args])))}: airflow "
        f"{shlex.join(json.loads(args))}: {problem}"
        for args, problem in refusals.items()
        if problem
    ]


CHECKS: dict[str, Callable[[Monitoring], list[str]]] = {
    "rules": rule_problems,
    "metrics": metric_problems,
    "headings": heading_problems,
    "pages": page_problems,
    "links": link_problems,
    "civic_commands": civic_command_problems,
    "airflow_commands": airflow_command_problems,
}


@pytest.mark.parametrize("check", CHECKS)
def test_monitoring(check: str) -> None:
    assert CHECKS[check](repo()) == []


def test_every_alert_has_a_runbook_that_exists() -> None:
    """The contract's table names a page per alert, and each is in the repository."""
    for alert, (page, _) in ALERTS.items():
        assert (RUNBOOKS / page).is_file(), f"{alert}: docs/runbooks/{page} is missing"
        assert alert in repo().alerts, f"{alert} is not in {RULES.relative_to(ROOT)}"


def test_selectors_are_read_as_written() -> None:
    """The expression reader finds metrics and their matchers' labels, not functions,
    keywords, grouping labels, strings or Grafana variables."""
    expr = (
        'abs(civic_run_rows{kind="read",source=~"$source"} - ignoring(kind) '
        "civic_volume_same_weekday_median) > 3 * (civic_volume_same_weekday_mad > "
        "clamp_min(0.1 * civic_volume_same_weekday_median, 1) or up) and on(source) "
        'sum by (dag_id) (rate(civic_airflow_dag_runs{state="failed"}[$__rate_interval])) '
        'offset 5m > bool 0 unless {__name__="x"}'
    )
    assert promql_selectors(expr) == [
        Selector("civic_run_rows", frozenset({"kind", "source"})),
        Selector("civic_volume_same_weekday_median", frozenset()),
        Selector("civic_volume_same_weekday_mad", frozenset()),
        Selector("civic_volume_same_weekday_median", frozenset()),
        Selector("up", frozenset()),
        Selector("civic_airflow_dag_runs", frozenset({"state"})),
        Selector("", frozenset({"__name__"})),
    ]
    assert selector_problems(expr, "e") == ["e: '{...}' is not a contract metric"]
    assert selector_problems('civic_run_rows{stage="x"}', "e") == [
        "e: civic_run_rows has no label ['stage']"
    ]


# -- promtool --------------------------------------------------------------------------------


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROMTOOL), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


@needs_promtool
def test_promtool_unit_tests() -> None:
    result = promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# name: (alert whose unit tests must fail, text replaced in civic.yml, replacement)
RULE_MUTATIONS = {
    "failed run on any value": (
        "CivicDagRunFailed",
        "civic_airflow_dag_last_run_failed == 1",
        "civic_airflow_dag_last_run_failed >= 0",
    ),
    "failed run waits": (
        "CivicDagRunFailed",
        "last_run_failed == 1\n        for: 0m",
        "last_run_failed == 1\n        for: 3m",
    ),
    "stale after 6 days": ("CivicReleaseStale", "> 7 * 86400", "> 6 * 86400"),
    "stale after 9 days": ("CivicReleaseStale", "> 7 * 86400", "> 9 * 86400"),
    "stale without the hour": (
        "CivicReleaseStale",
        "86400\n        for: 1h",
        "86400\n        for: 30m",
    ),
    "quarantine at 2 MAD": (
        "CivicQuarantineRateAnomaly",
        "+ 3 * clamp_min(civic_quarantine_ratio_baseline_mad",
        "+ 2 * clamp_min(civic_quarantine_ratio_baseline_mad",
    ),
    "quarantine MAD without its floor": (
        "CivicQuarantineRateAnomaly",
        "clamp_min(civic_quarantine_ratio_baseline_mad, 0.01)",
        "civic_quarantine_ratio_baseline_mad",
    ),
    "quarantine floor doubled": (
        "CivicQuarantineRateAnomaly",
        "civic_quarantine_ratio_baseline_mad, 0.01)",
        "civic_quarantine_ratio_baseline_mad, 0.02)",
    ),
    "quarantine baseline of 4 runs": (
        "CivicQuarantineRateAnomaly",
        "civic_quarantine_ratio_baseline_runs >= 5",
        "civic_quarantine_ratio_baseline_runs >= 4",
    ),
    "quarantine baseline of 6 runs": (
        "CivicQuarantineRateAnomaly",
        "civic_quarantine_ratio_baseline_runs >= 5",
        "civic_quarantine_ratio_baseline_runs >= 6",
    ),
    "quarantine fires at once": (
        "CivicQuarantineRateAnomaly",
        "baseline_runs >= 5\n        for: 5m",
        "baseline_runs >= 5\n        for: 0m",
    ),
    "volume at 4 MAD": ("CivicSubmissionVolumeAnomaly", "> 3 * (", "> 4 * ("),
    "volume floor of 5 %": (
        "CivicSubmissionVolumeAnomaly",
        "clamp_min(0.1 * civic_volume_same_weekday_median, 1)\n                or",
        "clamp_min(0.05 * civic_volume_same_weekday_median, 1)\n                or",
    ),
    "volume floor without its row": (
        "CivicSubmissionVolumeAnomaly",
        "or clamp_min(0.1 * civic_volume_same_weekday_median, 1)",
        "or clamp_min(0.1 * civic_volume_same_weekday_median, 0)",
    ),
    "volume spikes only": (
        "CivicSubmissionVolumeAnomaly",
        'abs(civic_run_rows{kind="read"} - ignoring(kind) civic_volume_same_weekday_median)',
        '(civic_run_rows{kind="read"} - ignoring(kind) civic_volume_same_weekday_median)',
    ),
    "volume baseline of 2 runs": (
        "CivicSubmissionVolumeAnomaly",
        "civic_volume_same_weekday_runs >= 3",
        "civic_volume_same_weekday_runs >= 2",
    ),
    "residual PII inverted": (
        "CivicResidualPersonalData",
        "civic_validation_residual_pii == 1",
        "civic_validation_residual_pii == 0",
    ),
    "residual PII as a warning": (
        "CivicResidualPersonalData",
        "residual_pii == 1\n        for: 0m\n        labels:\n          severity: critical",
        "residual_pii == 1\n        for: 0m\n        labels:\n          severity: warning",
    ),
    "ledger never broken": (
        "CivicLedgerBroken",
        "civic_ledger_verified == 0",
        "civic_ledger_verified < 0",
    ),
    "raw zone tolerates 3": (
        "CivicRawZoneUnencrypted",
        "civic_raw_zone_unencrypted_objects > 0",
        "civic_raw_zone_unencrypted_objects > 3",
    ),
    "raw zone fires at once": (
        "CivicRawZoneUnencrypted",
        "unencrypted_objects > 0\n        for: 5m",
        "unencrypted_objects > 0\n        for: 0m",
    ),
    "exporter of any job": ("CivicExporterDown", 'up{job="civic"} == 0', "up == 0"),
    "runbook moved": (
        "CivicLedgerBroken",
        "runbook_url: docs/runbooks/ledger-broken.md",
        "runbook_url: docs/runbooks/ledger.md",
    ),
}


@needs_promtool
@pytest.mark.parametrize("mutation", RULE_MUTATIONS)
def test_rule_tests_catch(mutation: str, tmp_path: Path) -> None:
    """The unit tests fail on the mutated alert: they pin its threshold, not just its name."""
    alert, old, new = RULE_MUTATIONS[mutation]
    text = RULES.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in civic.yml: update this mutation"
    (tmp_path / "tests").mkdir()
    (tmp_path / "civic.yml").write_text(text.replace(old, new), encoding="utf-8")
    shutil.copyfile(RULE_TESTS, tmp_path / "tests" / RULE_TESTS.name)
    result = promtool("test", "rules", tmp_path / "tests" / RULE_TESTS.name)
    assert result.returncode != 0, f"the unit tests still pass with {mutation!r}"
    assert f"alertname: {alert}," in result.stdout + result.stderr, result.stdout + result.stderr


# -- the static checks catch what they are for: each broken once, in a copy ----------------

# name: (the check that must notice, file under the copy (rules: civic.yml), old, new)
BREAKAGES = {
    "alert renamed": ("rules", "civic.yml", "alert: CivicLedgerBroken", "alert: CivicLedgerBad"),
    "severity lowered": (
        "rules",
        "civic.yml",
        "residual_pii == 1\n        for: 0m\n        labels:\n          severity: critical",
        "residual_pii == 1\n        for: 0m\n        labels:\n          severity: warning",
    ),
    "no for": ("rules", "civic.yml", "verified == 0\n        for: 0m\n", "verified == 0\n"),
    "runbook that does not exist": (
        "rules",
        "civic.yml",
        "docs/runbooks/exporter-down.md",
        "docs/runbooks/exporter.md",
    ),
    "English first": (
        "rules",
        "civic.yml",
        "Objets non chiffrés dans la zone brute /\n            Unencrypted objects in the raw zone",
        "Unencrypted objects in the raw zone /\n            Objets non chiffrés dans la zone brute",
    ),
    "French only": (
        "rules",
        "civic.yml",
        " /\n            Last run of DAG {{ $labels.dag_id }} failed",
        "",
    ),
    "metric outside the contract": (
        "metrics",
        "civic.yml",
        "civic_ledger_verified == 0",
        "civic_ledger_ok == 0",
    ),
    "label outside the contract": (
        "metrics",
        "civic.yml",
        "civic_airflow_dag_last_run_failed == 1",
        'civic_airflow_dag_last_run_failed{source="x"} == 1',
    ),
    "template query outside the contract": (
        "metrics",
        "civic.yml",
        'printf "civic_volume_same_weekday_median{source=%q}" $labels.source | query }}'
        "{{ . | first | value | humanize }}{{ end }}\n            les",
        'printf "civic_volume_median{source=%q}" $labels.source | query }}'
        "{{ . | first | value | humanize }}{{ end }}\n            les",
    ),
    "up of every job": ("metrics", "civic.yml", 'up{job="civic"} == 0', "up == 0"),
    "heading in English only": (
        "headings",
        "stop-publication.md",
        "## Vérifier / Check",
        "## Check",
    ),
    "heading English first": (
        "headings",
        "exporter-down.md",
        "## Qui prévenir / Whom to notify",
        "## Whom to notify / Qui prévenir",
    ),
    "section missing": (
        "pages",
        "ledger-broken.md",
        "## Retirer une publication / Withdraw a release",
        "### Retirer une publication / Withdraw a release",
    ),
    "title without the alert": (
        "pages",
        "release-stale.md",
        "# CivicReleaseStale — ",
        "# ",
    ),
    "index without a page": (
        "links",
        "README.md",
        "[raw-zone-unencrypted.md](raw-zone-unencrypted.md)",
        "raw-zone-unencrypted.md",
    ),
    "link to nowhere": (
        "links",
        "dag-run-failed.md",
        "[ledger-broken.md](ledger-broken.md)",
        "[ledger-broken.md](ledger-brokn.md)",
    ),
    "anchor to nowhere": (
        "links",
        "withdraw-release.md",
        "(README.md#lancer-les-commandes--running-the-commands)",
        "(README.md#running-the-commands)",
    ),
    "civic option that does not exist": (
        "civic_commands",
        "dag-run-failed.md",
        "civic audit show --run scheduled__2026-11-25T00_00_00_00_00 --last 50",
        "civic audit show --run-id scheduled__2026-11-25T00_00_00_00_00 --last 50",
    ),
    "civic command that does not exist": (
        "civic_commands",
        "ledger-broken.md",
        "civic audit verify --no-releases",
        "civic audit check --no-releases",
    ),
    "airflow option that does not exist": (
        "airflow_commands",
        "stop-publication.md",
        "airflow dags pause --treat-dag-id-as-regex '^civic_pipeline_' --yes",
        "airflow dags pause --regex '^civic_pipeline_' --yes",
    ),
    "airflow 2 syntax": (
        "airflow_commands",
        "release-stale.md",
        "airflow dags list-runs civic_pipeline_signalements --start-date",
        "airflow dags list-runs -d civic_pipeline_signalements --start-date",
    ),
}


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Monitoring:
    """The rules and runbooks copied to `tmp_path`, `old` replaced by `new` once in `name`."""
    runbooks = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, runbooks)
    rules = tmp_path / "civic.yml"
    shutil.copyfile(RULES, rules)
    path = rules if name == "civic.yml" else runbooks / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {name}: update this breakage"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return Monitoring(rules, runbooks)


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_catches(breakage: str, tmp_path: Path) -> None:
    check, name, old, new = BREAKAGES[breakage]
    assert CHECKS[check](broken_copy(tmp_path, name, old, new))
