"""ARX's `adult` benchmark read through the value-mapping hierarchy API.

Facts from `../shared/reference/README.md` and the files in `arx-adult/` (ARX's `data/`):
`adult.csv` has 30,162 records, `;`-separated, one column per attribute (records with
a missing value were removed upstream, there is no missing-value marker left); each
`adult_hierarchy_<attribute>.csv` is `value;level1;…;*`, so its number of columns is the
attribute's number of levels (age 5: exact, 5, 10, 20 years, *). ARX's own adult tests
take `occupation` as the sensitive attribute and the eight other columns as
quasi-identifiers (all nine when there is no sensitive attribute).

`adult_expected_results.csv` holds ARX's own test expectations: per test file, the
suppression limit, the metric, the privacy models and ARX's optimal generalization
vector with its information loss. Every adult case whose privacy model this engine
has (k-anonymity, entropy l-diversity with the Shannon or Grassberger estimate) is
run here with the same metric, and compared:

- Flash's cases (`TestAnonymizationKAnonymity`, `…LDiversity`, `…EntropyLDiversity`):
  ARX's vector and loss, exactly, with two named exceptions. (1) Entropy l-diversity
  with Shannon's estimate: the engine suppresses a class whose entropy is exactly
  ln l, ARX keeps it (`criteria.ENTROPY_MARGIN`); the vector is ARX's, and the loss
  is ARX's once those classes are kept, which the test shows. (2) Grassberger's
  estimate at 4 % and 5 %: ARX's stated optimum is not reproduced. At ARX's own
  vector, ARX's rule as its source states it (`EntropyLDiversity.isAnonymous`,
  re-implemented here from ARX's tabulated G) suppresses records whose loss is not
  ARX's stated one, so the expectation cannot be derived from the rule; the engine's
  answer is checked to be feasible under that independent re-implementation and to
  lose no more than ARX's.
- Heuristic cases (`…Heuristic`, `…HeuristicTopDown`, `…Genetic`): ARX's heuristic
  searches do not promise the optimum, so the engine's exact answer must lose no
  more than theirs, and equal it where theirs is optimal.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from include.anonymization import arx_adult
from include.anonymization.arx_adult import SENSITIVE, ArxCase
from include.anonymization.criteria import (
    PrivacyCriteria,
    class_distinct_values,
    class_entropies,
    failing_classes,
)
from include.anonymization.frequency_table import FrequencyTable, roll_up, row_table
from include.anonymization.hierarchies import EncodedColumn
from include.anonymization.information_loss import build_metric
from include.anonymization.kanonymity import (
    AnonymizationResult,
    SearchInputs,
    apply_generalization,
    find_optimal_generalization,
)

# attribute -> number of levels, value itself and "*" included (columns of its file)
LEVELS = {
    "sex": 2,
    "age": 5,
    "race": 2,
    "marital-status": 3,
    "education": 4,
    "native-country": 3,
    "workclass": 3,
    "occupation": 3,
    "salary-class": 2,
}
N_RECORDS = 30162

pytestmark = pytest.mark.skipif(
    not arx_adult.adult_available(),
    reason=f"ARX adult benchmark absent: {arx_adult.ADULT_DIR} (../shared/reference)",
)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return arx_adult.read_adult()


@pytest.fixture(scope="module")
def encoded(adult: pd.DataFrame) -> dict[str, EncodedColumn]:
    return arx_adult.encode_adult(adult)


def test_every_adult_hierarchy_is_a_tree_covering_the_data(
    adult: pd.DataFrame, encoded: dict[str, EncodedColumn]
) -> None:
    assert list(adult.columns) == list(LEVELS)
    assert len(adult) == N_RECORDS
    assert adult["age"].dtype.kind == "i"
    for attribute, column in encoded.items():
        assert column.top + 1 == LEVELS[attribute], attribute
        assert column.n_rows == N_RECORDS
        # level 0 gives the data back; each level is coarser, the top is one class
        assert list(column.generalized(0)) == adult[attribute].tolist()
        counts = [column.n_codes(level) for level in range(column.top + 1)]
        assert counts == sorted(counts, reverse=True), attribute
        assert counts[0] == adult[attribute].nunique()
        assert list(column.labels[column.top]) == ["*"]
        for level in range(column.top):
            column.level_map(level, level + 1)  # defined: a tree
    # a few labels as the files write them
    age = encoded["age"]
    first = int(adult["age"].iloc[0])
    assert first == 39
    assert [age.generalized(level)[0] for level in range(5)] == [39, "35-39", "30-39", "20-39", "*"]
    assert encoded["education"].generalized(2)[0] == "Higher education"


def test_adult_k5_with_4_percent_suppression_is_k_anonymous(
    adult: pd.DataFrame, encoded: dict[str, EncodedColumn]
) -> None:
    quasi = [a for a in LEVELS if a != "occupation"]
    inputs = SearchInputs(
        quasi_identifiers=tuple(encoded[a] for a in quasi),
        sensitive=(),
        criteria=PrivacyCriteria(k=5, max_suppression=0.04),
    )
    result = find_optimal_generalization(inputs)
    assert result.lattice_size == 2 * 5 * 2 * 3 * 4 * 3 * 3 * 2
    assert result.n_suppressed <= 1206  # floor(0.04 × 30,162)
    published = apply_generalization(adult, inputs, result)
    assert len(published) == N_RECORDS - result.n_suppressed
    sizes = published.groupby(quasi, sort=False).size()
    assert sizes.min() >= 5
    assert dict(Counter(sizes.tolist())) == result.class_sizes
    # published labels are the files' labels at the chosen levels
    for attribute in quasi:
        level = result.levels[attribute]
        allowed = set(encoded[attribute].labels[level])
        assert set(published[attribute]) <= allowed, attribute


# --- ARX's expected optima ----------------------------------------------------------------

ARX_CASES = arx_adult.read_cases() if arx_adult.adult_available() else []


def test_the_expectations_hold_the_cases_this_engine_can_run() -> None:
    flash = [c for c in ARX_CASES if c.exact]
    # k-anonymity: k 5 / 100 × 0 % / 4 %; entropy-l: Shannon 0 % / 4 % (LDiversity), and
    # Grassberger 0 % / 4 % / 5 % with Shannon 4 % (EntropyLDiversity)
    assert len(flash) == 10
    assert {c.metric.name for c in ARX_CASES} == {"arx_loss", "non_uniform_entropy"}
    assert len(ARX_CASES) == 25


_RESULTS: dict[ArxCase, AnonymizationResult] = {}


def _run(
    case: ArxCase, encoded: dict[str, EncodedColumn], adult: pd.DataFrame
) -> AnonymizationResult:
    if case not in _RESULTS:
        _RESULTS[case] = find_optimal_generalization(arx_adult.search_inputs(case, adult, encoded))
    return _RESULTS[case]


def _levels(result: AnonymizationResult, case: ArxCase) -> tuple[int, ...]:
    return tuple(result.levels[a] for a in case.quasi_identifiers)


def _node_loss(
    case: ArxCase,
    encoded: dict[str, EncodedColumn],
    adult: pd.DataFrame,
    levels: tuple[int, ...],
    failing_of: Callable[[FrequencyTable], np.ndarray],
) -> tuple[float, int]:
    """The case metric's loss at one node, and how many records `failing_of` suppresses."""
    inputs = arx_adult.search_inputs(case, adult, encoded)
    columns = inputs.quasi_identifiers
    rows = row_table(columns, [(s.codes, s.n_values) for s in inputs.sensitive])
    table, _ = roll_up(rows, columns, levels)
    failing = failing_of(table)
    return build_metric(case.metric, columns).loss(table, failing), int(table.counts[failing].sum())


def _arx_g(n: int) -> float:
    """Grassberger's G as ARX's EntropyLDiversity tabulates it, from harmonic sums.

    G(1) = −γ − ln 2; for even n, G(n) = ψ(n) + ½(ψ(n/2 + ½) − ψ(n/2)); an odd n above 1
    takes G(n − 1). ψ of an integer m is −γ + H(m − 1), ψ(m + ½) = −γ − 2 ln 2 + Σ 2/(2j − 1).
    """
    gamma = 0.5772156649015329
    if n == 1:
        return -gamma - math.log(2)
    n -= n % 2
    half = n // 2
    psi_n = -gamma + sum(1 / j for j in range(1, n))
    psi_half = -gamma + sum(1 / j for j in range(1, half))
    psi_half_plus = -gamma - 2 * math.log(2) + sum(2 / (2 * j - 1) for j in range(1, half + 1))
    return psi_n + 0.5 * (psi_half_plus - psi_half)


def _suppressed_by_arx_rule(
    case: ArxCase, encoded: dict[str, EncodedColumn], adult: pd.DataFrame, levels: tuple[int, ...]
) -> int:
    """Records ARX's isAnonymous would suppress at a node, class by class in plain Python."""
    classes: dict[tuple[object, ...], Counter[object]] = {}
    labels = [
        encoded[a].generalized(level)
        for a, level in zip(case.quasi_identifiers, levels, strict=True)
    ]
    for row, value in enumerate(adult[SENSITIVE]):
        classes.setdefault(tuple(column[row] for column in labels), Counter())[value] += 1
    suppressed = 0
    for counts in classes.values():
        total = sum(counts.values())
        limit = total * (_arx_g(total) - math.log(case.l_diversity))
        spread = sum(f * _arx_g(f) for f in counts.values())
        if len(counts) < case.l_diversity or limit < spread:
            suppressed += total
    return suppressed


@pytest.mark.slow
@pytest.mark.parametrize("case", ARX_CASES, ids=lambda case: case.name)
def test_arx_adult_case(
    case: ArxCase, encoded: dict[str, EncodedColumn], adult: pd.DataFrame
) -> None:
    result = _run(case, encoded, adult)
    levels = _levels(result, case)
    allowed = math.floor(case.suppression_limit * N_RECORDS + 1e-9)
    assert result.n_suppressed <= allowed
    if not case.exact:
        assert result.information_loss <= case.expected_loss * (1 + 1e-12)
        if math.isclose(result.information_loss, case.expected_loss, rel_tol=1e-12):
            assert levels == case.expected_levels
        return
    if case.l_diversity == 1:
        assert levels == case.expected_levels
        assert result.information_loss == pytest.approx(case.expected_loss, rel=1e-12)
    elif case.estimator == "shannon":
        assert levels == case.expected_levels
        if case.suppression_limit == 0:
            assert result.information_loss == pytest.approx(case.expected_loss, rel=1e-12)
            return

        # The one difference by design: classes whose entropy is exactly ln l. Kept, as ARX
        # keeps them, the loss is ARX's; suppressed, as this engine does, it is higher.
        def arx_failing(table: FrequencyTable) -> np.ndarray:
            entropies = class_entropies(table, 0)
            return (entropies < math.log(case.l_diversity) - 1e-9) | (
                class_distinct_values(table, 0) < case.l_diversity
            )

        arx_loss, arx_suppressed = _node_loss(case, encoded, adult, levels, arx_failing)
        assert arx_loss == pytest.approx(case.expected_loss, rel=1e-12)
        assert arx_suppressed < result.n_suppressed
        assert result.information_loss > case.expected_loss
    elif case.suppression_limit == 0:
        assert levels == case.expected_levels
        assert result.information_loss == pytest.approx(case.expected_loss, rel=1e-12)
    else:
        # Grassberger with suppression: ARX's stated optimum is not derivable (see the module
        # docstring); the engine's answer is feasible by ARX's rule and loses no more.
        assert _suppressed_by_arx_rule(case, encoded, adult, levels) == result.n_suppressed
        assert result.information_loss <= case.expected_loss
        stated_node_loss, _ = _node_loss(
            case, encoded, adult, case.expected_levels,
            lambda table: failing_classes(table, case.criteria),
        )  # fmt: skip
        assert stated_node_loss != pytest.approx(case.expected_loss, rel=1e-9)
