"""ARX's `adult` benchmark and its expected optima, read from the shared reference folder.

ARX (arx-deidentifier/arx, Apache 2.0) ships the UCI adult data (30,162 records,
9 attributes, `;`-separated), a value-mapping hierarchy per attribute, and, in its
JUnit tests, the optimal generalization it expects per privacy model, suppression
limit and metric. `../shared/reference/arx-adult/` holds them (never copied into this
repository); the tests and `bench/bench_arx_adult.py` read them through this module
and skip where the folder is absent.

A case is kept when this engine has its privacy model (k-anonymity; entropy
l-diversity, Shannon or Grassberger) and its metric (ARX's Loss with a gs-factor,
ARX's non-uniform entropy, monotonic or not). Vectors list levels in the data's column
order, the sensitive attribute left out.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from include.anonymization.criteria import EntropyEstimator, PrivacyCriteria
from include.anonymization.hierarchies import EncodedColumn, hierarchy_from_csv
from include.anonymization.kanonymity import SearchInputs, encode_sensitive
from include.anonymization.pii.reference_corpora import REFERENCE_DIR
from include.core.metric_spec import MetricSpec

ADULT_DIR = REFERENCE_DIR / "arx-adult"
EXPECTED_RESULTS = ADULT_DIR / "adult_expected_results.csv"
ATTRIBUTES = (
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
    "salary-class",
)
SENSITIVE = "occupation"

# ARX's test classes whose search is exact (Flash) or heuristic (no optimality promised).
FLASH_FILES = frozenset(
    {
        "TestAnonymizationKAnonymity.java",
        "TestAnonymizationLDiversity.java",
        "TestAnonymizationEntropyLDiversity.java",
    }
)
HEURISTIC_FILES = frozenset(
    {
        "TestAnonymizationHeuristic.java",
        "TestAnonymizationHeuristicTopDown.java",
        "TestAnonymizationGenetic.java",
    }
)

_ENTROPY_METRIC = re.compile(r"Metric\.createPrecomputedEntropyMetric\(0\.1d(?:, (true|false))?\)$")
_LOSS_METRIC = re.compile(r"Metric\.createLossMetric\((?:([0-9.]+)d)?\)$")
_K_ANONYMITY = re.compile(r"^KAnonymity\((\d+)\)$")
_ENTROPY_L = re.compile(
    rf'^EntropyLDiversity\("{SENSITIVE}", (\d+)(?:, EntropyEstimator\.(SHANNON|GRASSBERGER))?\)$'
)


def hierarchy_path(attribute: str) -> Path:
    return ADULT_DIR / f"adult_hierarchy_{attribute}.csv"


def adult_available() -> bool:
    """Whether the data, every hierarchy and the expectations are there."""
    files = [ADULT_DIR / "adult.csv", EXPECTED_RESULTS, *map(hierarchy_path, ATTRIBUTES)]
    return all(path.is_file() for path in files)


@dataclass(frozen=True)
class ArxCase:
    """One of ARX's expectations, in this engine's terms."""

    test_file: str
    suppression_limit: float
    metric: MetricSpec
    k: int
    l_diversity: int
    estimator: EntropyEstimator
    quasi_identifiers: tuple[str, ...]
    expected_loss: float
    expected_levels: tuple[int, ...]

    @property
    def exact(self) -> bool:
        """Whether ARX's expectation comes from its exact search (Flash)."""
        return self.test_file in FLASH_FILES

    @property
    def criteria(self) -> PrivacyCriteria:
        return PrivacyCriteria(
            k=self.k,
            l_diversity=self.l_diversity,
            l_kind="entropy" if self.l_diversity > 1 else "distinct",
            max_suppression=self.suppression_limit,
            entropy_estimator=self.estimator,
        )

    @property
    def name(self) -> str:
        test = self.test_file.removeprefix("TestAnonymization").removesuffix(".java")
        model = f"k={self.k}" if self.k > 1 else f"entropy-l={self.l_diversity} {self.estimator}"
        return f"{test} {model} {self.suppression_limit:.0%} {self.metric.describe()}"


def _metric(text: str) -> MetricSpec | None:
    if entropy := _ENTROPY_METRIC.match(text):
        # createPrecomputedEntropyMetric(threshold) is the non-monotonic variant
        return MetricSpec("non_uniform_entropy", monotonic=entropy.group(1) == "true")
    if loss := _LOSS_METRIC.match(text):
        return MetricSpec("arx_loss", gs_factor=float(loss.group(1) or 0.5))
    return None


def _case(row: dict[str, str]) -> ArxCase | None:
    """The case, or None when its test class, metric or privacy model is not this engine's."""
    metric = _metric(row["metric"])
    if row["test_file"] not in FLASH_FILES | HEURISTIC_FILES or metric is None:
        return None
    k, l_diversity, estimator = 1, 1, "shannon"
    if model := _K_ANONYMITY.match(row["privacy_models"]):
        k = int(model.group(1))
    elif model := _ENTROPY_L.match(row["privacy_models"]):
        l_diversity = int(model.group(1))
        estimator = (model.group(2) or "SHANNON").lower()
    else:
        return None
    sensitive = row["sensitive_attribute"]
    return ArxCase(
        test_file=row["test_file"],
        suppression_limit=float(row["suppression_limit"]),
        metric=metric,
        k=k,
        l_diversity=l_diversity,
        estimator=estimator,  # type: ignore[arg-type]
        quasi_identifiers=tuple(a for a in ATTRIBUTES if a != sensitive),
        expected_loss=float(row["expected_information_loss"]),
        expected_levels=tuple(int(v) for v in row["optimal_transformation"].strip("{}").split(",")),
    )


def read_cases() -> list[ArxCase]:
    """ARX's adult cases this engine can run, each once (ARX runs some twice)."""
    with EXPECTED_RESULTS.open(newline="") as file:
        cases = [_case(row) for row in csv.DictReader(file)]
    return list(dict.fromkeys(case for case in cases if case is not None))


def read_adult() -> pd.DataFrame:
    """The records; age read as integers (the hierarchy matches it by its decimal text)."""
    return pd.read_csv(ADULT_DIR / "adult.csv", sep=";")


def encode_adult(adult: pd.DataFrame) -> dict[str, EncodedColumn]:
    """Every attribute encoded through its ARX hierarchy file."""
    return {a: hierarchy_from_csv(hierarchy_path(a), a).encode(adult[a]) for a in ATTRIBUTES}


def search_inputs(
    case: ArxCase, adult: pd.DataFrame, encoded: dict[str, EncodedColumn]
) -> SearchInputs:
    sensitive = (encode_sensitive(SENSITIVE, adult[SENSITIVE]),) if case.l_diversity > 1 else ()
    return SearchInputs(
        quasi_identifiers=tuple(encoded[a] for a in case.quasi_identifiers),
        sensitive=sensitive,
        criteria=case.criteria,
        metric=case.metric,
    )
