"""Building blocks of the k-anonymity search: grouping, roll-up, criteria, loss, lattice."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.anonymization.criteria import (
    PrivacyCriteria,
    class_entropies,
    failing_classes,
    grassberger_g,
)
from include.anonymization.frequency_table import (
    FrequencyTable,
    combine_codes,
    group_keys,
    roll_up,
    row_table,
)
from include.anonymization.hierarchies import (
    EncodedColumn,
    GroupingGeneralizer,
    NumericBandsGeneralizer,
    SuppressGeneralizer,
)
from include.anonymization.information_loss import IyengarLoss, build_metric
from include.anonymization.kanonymity import (
    InfeasibleGeneralizationError,
    SearchInputs,
    find_optimal_generalization,
)
from include.anonymization.lattice import Lattice
from include.core.metric_spec import MetricSpec
from tests.unit.anonymization.metric_specs import EXAMPLE_METRICS

SETTINGS = settings(derandomize=True, deadline=None, max_examples=60)


def encode(ages: list[int], genders: list[str], jobs: list[str]) -> list[EncodedColumn]:
    jobs_to_groups = {"cadre": "salarie", "ouvrier": "salarie", "retraite": "inactif"}
    return [
        NumericBandsGeneralizer("age", [5, 10]).encode(ages),
        SuppressGeneralizer("gender").encode(genders),
        GroupingGeneralizer("job", [jobs_to_groups]).encode(jobs),
    ]


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[EncodedColumn], np.ndarray]:
    rows = draw(st.integers(1, 50))

    def column(values: st.SearchStrategy[object]) -> list[object]:
        return draw(st.lists(values, min_size=rows, max_size=rows))

    columns = encode(
        column(st.integers(0, 40)),
        column(st.sampled_from("FMX")),
        column(st.sampled_from(["cadre", "ouvrier", "retraite"])),
    )
    return columns, np.array(column(st.integers(0, 3)), dtype=np.int64)


def pair_counts(table: FrequencyTable, columns: list[EncodedColumn]) -> Counter[tuple[object, ...]]:
    """A table as {(labels..., sensitive value): records}."""
    labels = [
        list(c.labels[lv].take(codes))
        for c, lv, codes in zip(columns, table.levels, table.codes, strict=True)
    ]
    pairs = table.sensitive[0]
    return Counter(
        {
            (*(column[cls] for column in labels), value): count
            for cls, value, count in zip(
                pairs.cls.tolist(), pairs.value.tolist(), pairs.count.tolist(), strict=True
            )
        }
    )


# --- grouping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key_range", [10, 1_000, 10**9])
def test_group_keys_numbers_groups_in_key_order(key_range: int) -> None:
    keys = np.random.default_rng(0).integers(0, key_range, 5_000)
    inverse, representative = group_keys(keys, key_range)
    distinct, expected = np.unique(keys, return_inverse=True)
    assert np.array_equal(inverse, expected)
    assert np.array_equal(keys[representative], distinct)


def test_combine_codes_survives_key_overflow() -> None:
    rng = np.random.default_rng(1)
    radices = [2**20] * 4  # product 2**80 does not fit in int64
    columns = [rng.integers(0, 3, 1_000) * 2**18 for _ in radices]
    keys, key_range = combine_codes(columns, radices)
    assert keys.min() >= 0
    assert keys.max() < key_range
    tuples = list(zip(*columns, strict=True))
    assert len(set(keys.tolist())) == len(set(tuples))
    for a, b in itertools.combinations(range(40), 2):
        assert (keys[a] == keys[b]) == (tuples[a] == tuples[b])


# --- roll-up ----------------------------------------------------------------------------------


@SETTINGS
@given(tables())
def test_roll_up_matches_grouping_the_rows(case: tuple[list[EncodedColumn], np.ndarray]) -> None:
    columns, sensitive = case
    rows = row_table(columns, [(sensitive, 4)])
    bottom, row_class = roll_up(rows, columns, rows.levels)
    assert np.bincount(row_class, minlength=bottom.n_classes).tolist() == bottom.counts.tolist()
    for levels in itertools.product(*(range(c.top + 1) for c in columns)):
        labels = [list(c.generalized(lv)) for c, lv in zip(columns, levels, strict=True)]
        expected = Counter(zip(*labels, sensitive.tolist(), strict=True))
        from_bottom, _ = roll_up(bottom, columns, levels)
        assert pair_counts(from_bottom, columns) == expected
        class_sizes = Counter(zip(*labels, strict=True))
        assert sorted(from_bottom.counts.tolist()) == sorted(class_sizes.values())
        middle, _ = roll_up(bottom, columns, [lv // 2 for lv in levels])
        via_middle, _ = roll_up(middle, columns, levels)
        for got, want in zip(
            (*via_middle.codes, via_middle.counts),
            (*from_bottom.codes, from_bottom.counts),
            strict=True,
        ):
            assert np.array_equal(got, want)


# --- criteria ---------------------------------------------------------------------------------


def test_suppression_cap_is_read_in_decimal() -> None:
    assert PrivacyCriteria(k=2, max_suppression=0.29).max_suppressed(100) == 29
    assert PrivacyCriteria(k=2, max_suppression=0.05).max_suppressed(99) == 4
    assert PrivacyCriteria(k=2).max_suppressed(1_000_000) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 0}, "k must be at least 1"),
        ({"k": 2, "l_diversity": 0}, "l must be at least 1"),
        ({"k": 2, "l_kind": "recursive"}, "l_kind must be"),
        ({"k": 2, "max_suppression": 1.01}, r"max_suppression must be in \[0, 1\]"),
        ({"k": 2, "max_suppression": -0.1}, r"max_suppression must be in \[0, 1\]"),
    ],
)
def test_invalid_criteria_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrivacyCriteria(**arguments)  # type: ignore[arg-type]


def test_only_entropy_with_l_above_one_is_not_monotone() -> None:
    entropy = PrivacyCriteria(k=3, l_diversity=2, l_kind="entropy", max_suppression=0.1)
    assert not entropy.monotone
    assert entropy.relaxed() == PrivacyCriteria(3, 2, "distinct", 0.1)
    assert PrivacyCriteria(k=3, l_diversity=1, l_kind="entropy").monotone
    assert PrivacyCriteria(k=3, l_diversity=4).relaxed() == PrivacyCriteria(k=3, l_diversity=4)


def test_failing_classes_for_k_distinct_and_entropy() -> None:
    # Classes by gender: F holds a, b (even split), M holds a, a, b, c, X holds a.
    columns = [SuppressGeneralizer("gender").encode(["F", "F", "M", "M", "M", "M", "X"])]
    sensitive = np.array([0, 1, 0, 0, 1, 2, 0])
    rows = row_table(columns, [(sensitive, 3)])
    bottom, _ = roll_up(rows, columns, rows.levels)
    labels = list(columns[0].labels[0].take(bottom.codes[0]))

    def failing(criteria: PrivacyCriteria) -> list[str]:
        return sorted(np.array(labels)[failing_classes(bottom, criteria)].tolist())

    assert failing(PrivacyCriteria(k=2)) == ["X"]
    assert failing(PrivacyCriteria(k=3)) == ["F", "X"]
    assert failing(PrivacyCriteria(k=1, l_diversity=2)) == ["X"]
    assert failing(PrivacyCriteria(k=1, l_diversity=3)) == ["F", "X"]
    # F sits exactly on e^H = 2: counted as failing (see criteria.ENTROPY_MARGIN).
    assert failing(PrivacyCriteria(k=1, l_diversity=2, l_kind="entropy")) == ["F", "X"]
    entropies = dict(zip(labels, class_entropies(bottom, 0), strict=True))
    assert entropies["F"] == pytest.approx(math.log(2))
    assert entropies["M"] == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))


def test_grassberger_estimate_as_arx_tabulates_it() -> None:
    # ARX's EntropyLDiversity.G_PRECOMPUTED: G_1, G_2, G_4, G_100; odd n > 1 takes G(n - 1).
    assert grassberger_g(np.array([1, 2, 3, 4, 5, 100, 101])) == pytest.approx(
        [-1.2703628454614782, 0.7296371545385218, 0.7296371545385218, 1.3963038212051886,
         1.3963038212051886, 4.605186851488337, 4.605186851488337],
        abs=1e-12,
    )  # fmt: skip
    # One class of 3 records holding a, a, b: H = G(3) - (2 G(2) + G(1)) / 3.
    columns = [SuppressGeneralizer("gender").encode(["F", "F", "F"])]
    rows = row_table(columns, [(np.array([0, 0, 1]), 2)])
    bottom, _ = roll_up(rows, columns, rows.levels)
    expected = 0.7296371545385218 - (2 * 0.7296371545385218 - 1.2703628454614782) / 3
    assert class_entropies(bottom, 0, "grassberger")[0] == pytest.approx(expected)
    assert expected > class_entropies(bottom, 0)[0]  # the plug-in estimate is biased low
    # Grassberger's estimate can exceed ln l with fewer than l values (a, b: G(2) - G(1) =
    # 2.0 > ln 3); ARX still asks for l distinct values, and so does the engine.
    two = [SuppressGeneralizer("gender").encode(["F", "F"])]
    pair = row_table(two, [(np.array([0, 1]), 2)])
    two_values, _ = roll_up(pair, two, pair.levels)
    assert class_entropies(two_values, 0, "grassberger")[0] == pytest.approx(2.0)
    criteria = PrivacyCriteria(
        k=1, l_diversity=3, l_kind="entropy", entropy_estimator="grassberger"
    )
    assert failing_classes(two_values, criteria).tolist() == [True]


# --- information loss ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", EXAMPLE_METRICS, ids=lambda spec: spec.describe())
@SETTINGS
@given(case=tables())
def test_loss_bounds_hold_and_penalties_grow_down_the_lattice(
    spec: MetricSpec, case: tuple[list[EncodedColumn], np.ndarray]
) -> None:
    """What the search prunes with: bounds below losses, coarser penalties below finer ones."""
    columns, sensitive = case
    metric = build_metric(spec, columns)
    lattice = Lattice([c.top for c in columns], [c.field for c in columns])
    bounds = metric.lower_bounds(lattice.levels)
    rows = row_table(columns, [(sensitive, 4)])
    bottom, _ = roll_up(rows, columns, rows.levels)
    criteria = PrivacyCriteria(k=2, l_diversity=2)
    penalties = np.zeros((lattice.size, len(columns)))
    for node in range(lattice.size):
        levels = lattice.node_levels(node)
        assert bounds[node] == pytest.approx(metric.lower_bound(levels))
        finer = np.flatnonzero(lattice.at_or_below(node))
        assert (bounds[finer] <= bounds[node] + 1e-9).all()
        table, _ = roll_up(bottom, columns, levels)
        failing = failing_classes(table, criteria)
        penalties[node] = metric.penalties(table, failing) if failing.any() else 0
        assert (penalties[node] >= 0).all()
        assert metric.bound(levels, penalties[node]) == pytest.approx(metric.loss(table, failing))
        assert bounds[node] - 1e-9 <= metric.loss(table, failing)
    for node in range(lattice.size):
        for coarser in np.flatnonzero((lattice.levels >= lattice.levels[node]).all(axis=1)):
            assert (penalties[coarser] <= penalties[node] + 1e-9).all()
            assert (
                metric.bound(lattice.node_levels(node), penalties[coarser])
                <= metric.bound(lattice.node_levels(node), penalties[node]) + 1e-9
            )
    assert bounds[lattice.bottom] == 0


@SETTINGS
@given(tables())
def test_lm_of_the_top_node_is_one_per_varying_column(
    case: tuple[list[EncodedColumn], np.ndarray],
) -> None:
    columns, _ = case
    metric = IyengarLoss(columns)
    lattice = Lattice([c.top for c in columns], [c.field for c in columns])
    top = lattice.node_levels(lattice.top)
    domains_above_one = [c.n_codes(0) > 1 for c in columns]
    assert metric.lower_bound(top) == pytest.approx(np.mean(domains_above_one))


def test_loss_counts_generalized_and_suppressed_cells() -> None:
    # Ages 20, 21, 30: at 5-year bands, 20 and 21 share "20-24" (2 of 3 values covered).
    columns = [NumericBandsGeneralizer("age", [5]).encode([20, 21, 30])]
    metric = IyengarLoss(columns)
    rows = row_table(columns, [])
    table, _ = roll_up(rows, columns, (1,))
    assert metric.lower_bound((1,)) == pytest.approx((0.5 + 0.5 + 0) / 3)
    suppress_30 = np.array(list(columns[0].labels[1].take(table.codes[0]))) == "30-34"
    assert metric.loss(table, suppress_30) == pytest.approx((0.5 + 0.5 + 1) / 3)


@pytest.mark.parametrize(
    ("spec", "level", "suppress", "expected"),
    [
        # Ages 20, 21, 30; at 5-year bands "20-24" covers 2 of the 3 values (share 2/3).
        # ARX's Loss: kept cells g × share, suppressed 1 (or share + s × (1 − share)), the
        # sum normalized between n·g/|D| = 3g/3 and n = 3.
        (MetricSpec("arx_loss"), 1, {"30-34"}, ((2 / 3 + 2 / 3 + 1) - 1) / 2),
        (MetricSpec("arx_loss", gs_factor=0.1), 1, {"30-34"}, ((4 / 3 + 7 / 15) - 1) / 2),
        (MetricSpec("arx_loss", gs_factor=0.8), 1, {"30-34"}, (0.4 * 4 / 3 + 1 - 0.4) / 2.6),
        (MetricSpec("arx_loss"), 0, {21, 30}, ((1 / 3 + 1 + 1) - 1) / 2),
        # Non-uniform entropy: 20 and 21 published as "20-24" cost −log2(1/2) bit each; the
        # non-monotonic variant adds the suppressed records' labels' entropy × their number.
        (MetricSpec("non_uniform_entropy"), 1, {"30-34"}, 2.0),
        (MetricSpec("non_uniform_entropy"), 0, {21, 30}, 2.0),
        (MetricSpec("non_uniform_entropy", monotonic=True), 0, {21, 30}, 0.0),
        (MetricSpec("non_uniform_entropy", gs_factor=0.25), 0, {21, 30}, 1.0),
        (MetricSpec("non_uniform_entropy", gs_factor=0.75), 1, set(), 1.0),
    ],
)
def test_arx_metrics_by_hand(
    spec: MetricSpec, level: int, suppress: set[object], expected: float
) -> None:
    columns = [NumericBandsGeneralizer("age", [5]).encode([20, 21, 30])]
    metric = build_metric(spec, columns)
    rows = row_table(columns, [])
    table, _ = roll_up(rows, columns, (level,))
    labels = np.array(list(columns[0].labels[level].take(table.codes[0])), dtype=object)
    suppressed = np.isin(labels, list(suppress))
    assert metric.loss(table, suppressed) == pytest.approx(expected)


def test_metric_specs_are_checked() -> None:
    assert MetricSpec("arx_loss", gs_factor=0.2).as_dict() == {"name": "arx_loss", "gs_factor": 0.2}
    assert MetricSpec().as_dict() == {"name": "lm"}
    for arguments, message in [
        ({"name": "discernibility"}, "metric must be one of"),
        ({"name": "arx_loss", "gs_factor": 1.5}, r"gs_factor must be in \[0, 1\]"),
        ({"name": "lm", "gs_factor": 0.3}, "no gs_factor"),
        ({"name": "arx_loss", "monotonic": True}, "no monotonic variant"),
    ]:
        with pytest.raises(ValueError, match=message):
            MetricSpec(**arguments)  # type: ignore[arg-type]


# --- lattice ------------------------------------------------------------------------------------


def test_lattice_numbering_and_cones() -> None:
    lattice = Lattice([2, 1, 3], ["a", "b", "c"])
    assert lattice.size == 3 * 2 * 4
    every = [lattice.node_levels(n) for n in range(lattice.size)]
    assert every == sorted(itertools.product(range(3), range(2), range(4)))  # row-major
    assert lattice.node_levels(lattice.bottom) == (0, 0, 0)
    assert lattice.node_levels(lattice.top) == (2, 1, 3)
    node = every.index((1, 0, 2))
    below = {lattice.node_levels(n) for n in np.flatnonzero(lattice.at_or_below(node))}
    assert below == set(itertools.product(range(2), range(1), range(3)))


def test_oversized_lattice_is_refused() -> None:
    with pytest.raises(ValueError, match="declare fewer quasi-identifiers"):
        Lattice([9] * 7, [f"q{i}" for i in range(7)])  # 10**7 nodes
    Lattice([1] * 20, [f"q{i}" for i in range(20)])  # 2**20 nodes: still allowed


def test_a_suppression_limit_of_100_percent_is_a_limit_like_any_other() -> None:
    """ARX allows it (issue #13): with fewer records than k, everything is suppressed rather
    than the search failing; where k can be met, suppressing everything costs the most."""
    columns = encode([21, 22, 23], ["F", "M", "F"], ["cadre", "ouvrier", "retraite"])
    inputs = SearchInputs(tuple(columns), (), PrivacyCriteria(k=5, max_suppression=1.0))
    assert find_optimal_generalization(inputs).n_suppressed == 3
    with pytest.raises(InfeasibleGeneralizationError):
        find_optimal_generalization(
            SearchInputs(tuple(columns), (), PrivacyCriteria(k=5, max_suppression=0.99))
        )
    ages = [20 + i % 10 for i in range(40)]
    columns = encode(ages, ["F", "M"] * 20, ["cadre", "ouvrier", "retraite", "cadre"] * 10)
    result = find_optimal_generalization(
        SearchInputs(tuple(columns), (), PrivacyCriteria(k=2, max_suppression=1.0))
    )
    assert result.n_suppressed < 40
