"""The cell key method: the ptable against sdcTools' published figures, the lookup, the
consistency of a cell across tables and releases, the noise's statistics, and bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import chi2

from include.anonymization.cell_key import (
    KEY_MODULUS,
    PerturbationError,
    PerturbationTable,
    cell_keys,
    draw_record_keys,
    perturb_counts,
)
from include.core.source_config import CellKeyDisclosure, parse_source_config

SEED = 20261202
CHI2_ALPHA = 1e-6  # a correct lookup fails the frequency test once in a million seeds


def transitions(table: PerturbationTable, count: int) -> dict[int, float]:
    """Row `count` of the ptable as target → probability."""
    row = table.rows[count]
    return {int(row.count + v): float(p) for v, p in zip(row.noise, row.probabilities, strict=True)}


def cumulative(table: PerturbationTable, count: int, width: int) -> list[float]:
    """Row `count` as the cumulative probabilities of targets 0..width-1, rounded to 2 places."""
    p = transitions(table, count)
    return [round(sum(p.get(t, 0.0) for t in range(j + 1)), 2) for j in range(width)]


def record_groups(rng: np.random.Generator, sizes: np.ndarray) -> pd.DataFrame:
    """One group per record (count 1, its own key) for cells numbered 0.. of the given sizes."""
    cell = np.repeat(np.arange(len(sizes)), sizes)
    return pd.DataFrame(
        {"cell": cell, "count": 1, "key_sum": rng.integers(0, KEY_MODULUS, size=len(cell))}
    )


# --- the perturbation table ------------------------------------------------------------------


def test_ptable_reproduces_the_ptable_vignette_panel_for_d2_v108_js1() -> None:
    # sdcTools/ptable 0.3.3, vignettes/introduction.Rmd, "Plotting the Perturbation Panel"
    # (create_cnt_ptable(D = 2, V = 1.08, js = 1, mono = c(TRUE, TRUE, FALSE, TRUE))): "An
    # original frequency count i=1 changes with probability 0.5133 to j = 0 [...] With a
    # probability of 0.46 the original i = 1 becomes j = 2 [...] with a probability of 0.0267
    # the original i = 1 becomes j = 3". Row 1 is monotone there (mono[1] = TRUE), as here.
    table = PerturbationTable.build(max_noise=2, variance=1.08, js=1)
    row = transitions(table, 1)
    assert set(row) == {0, 2, 3}
    assert row[0] == pytest.approx(0.5133, abs=5e-5)
    assert row[2] == pytest.approx(0.46, abs=5e-5)
    assert row[3] == pytest.approx(0.0267, abs=5e-5)


def test_ptable_d2_reproduces_the_published_pmatrix() -> None:
    # Øyvind Langsrud, experimentalRpackage R/pTable.R, `Pmatrix()`: without ptable installed
    # it returns the stored output of "round(Pmatrix(D=2,js=0),2)" (cumulative, V = 3 by
    # default): matrix(c(1, 0.37, 0.2, 1, 0.73, 0.4, 1, 0.9, 0.6, 1, 1, 0.8, 1, 1, 1), 3, 5).
    table = PerturbationTable.build(max_noise=2, variance=3, js=0)
    assert [cumulative(table, i, 5) for i in range(3)] == [
        [1.0, 1.0, 1.0, 1.0, 1.0],
        [0.37, 0.73, 0.9, 1.0, 1.0],
        [0.2, 0.4, 0.6, 0.8, 1.0],
    ]


def test_ptable_d2_v1_misses_its_variance_only_for_a_count_of_1_as_the_vignette_says() -> None:
    # ptable's vignette, "Output Checking and Troubleshooting": with create_cnt_ptable(D = 2,
    # V = 1) "the preset variance of V=1 does not hold for the original frequency i=1", and
    # with V = 0.9 the table "fullfills all conditions". Row 1 of D = 2, V = 1 is then the
    # unconstrained maximum entropy row, i.e. row 1 of the published D = 2 matrix above.
    table = PerturbationTable.build(max_noise=2, variance=1)
    variances = [float(r.probabilities @ r.noise.astype(float) ** 2) for r in table.rows[1:]]
    assert variances[0] < 0.95
    assert variances[1] == pytest.approx(1.0, abs=1e-6)
    assert cumulative(table, 1, 4) == [0.37, 0.73, 0.9, 1.0]
    lower = PerturbationTable.build(max_noise=2, variance=0.9)
    for row in lower.rows[1:]:
        assert float(row.probabilities @ row.noise.astype(float) ** 2) == pytest.approx(0.9, 1e-6)


@pytest.mark.parametrize(
    ("max_noise", "variance", "js"), [(2, 1.0, 0), (2, 1.05, 1), (3, 2.5, 2), (5, 3.0, 2)]
)
def test_every_ptable_row_meets_the_ptable_constraints(
    max_noise: int, variance: float, js: int
) -> None:
    table = PerturbationTable.build(max_noise, variance, js)
    assert table.symmetry == (max_noise if js == 0 else max_noise + js + 1)
    assert [row.count for row in table.rows] == list(range(table.symmetry + 1))
    assert transitions(table, 0) == {0: 1.0}
    for row in table.rows[1:]:
        v, p = row.noise.astype(float), row.probabilities
        targets = row.count + row.noise
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert abs(p @ v) < 1e-6
        assert p @ v**2 <= variance + 1e-6
        assert np.all(np.abs(row.noise) <= max_noise)
        assert np.all(targets >= 0)
        assert not np.any((targets >= 1) & (targets <= js))
        assert np.all(p > 0)
        stay = np.flatnonzero(row.noise == 0)
        if stay.size:
            assert np.all(np.diff(p[: stay[0] + 1]) >= -1e-8)
        np.testing.assert_array_equal(row.upper, np.round(row.upper, 8))
        assert row.upper[-1] == 1.0
    symmetric = table.rows[-1]
    np.testing.assert_allclose(symmetric.probabilities, symmetric.probabilities[::-1], atol=1e-6)
    assert float(symmetric.probabilities @ symmetric.noise.astype(float) ** 2) == pytest.approx(
        variance, abs=1e-6
    )


def test_an_impossible_ptable_is_refused_with_the_count_and_what_to_change() -> None:
    with pytest.raises(PerturbationError, match=r"count of 1 .* raise the variance"):
        PerturbationTable.build(max_noise=1, variance=0.5, js=1)  # 1 must go to 0 or 2: var 1
    with pytest.raises(PerturbationError, match="max_noise >= 1"):
        PerturbationTable.build(max_noise=0, variance=1)


def test_the_table_comes_from_the_source_config_and_its_fingerprint_names_it(
    sources_dir: Path,
) -> None:
    data = yaml.safe_load((sources_dir / "consultation.yaml").read_text())
    data["disclosure"] = {"method": "cell_key", "max_noise": 3, "variance": 2.5, "js": 2}
    disclosure = parse_source_config(data, "consultation.yaml").disclosure
    assert isinstance(disclosure, CellKeyDisclosure)
    table = PerturbationTable.from_config(disclosure)
    assert (table.max_noise, table.variance, table.js) == (3, 2.5, 2)
    assert table.fingerprint == PerturbationTable.build(3, 2.5, 2).fingerprint
    assert table.fingerprint != PerturbationTable.build(3, 2.4, 2).fingerprint


# --- keys and lookup ---------------------------------------------------------------------------


def test_record_keys_are_32_bit_uniform_and_never_repeat_a_draw() -> None:
    keys = draw_record_keys(1_000_000)
    assert keys.dtype == np.int64
    assert keys.shape == (1_000_000,)
    assert keys.min() >= 0
    assert keys.max() < KEY_MODULUS
    # Uniform on [0, 1): mean 0.5, standard error 0.29 / 1000; 0.003 is ten of them.
    assert abs((keys / KEY_MODULUS).mean() - 0.5) < 0.003
    assert not np.array_equal(keys[:1000], draw_record_keys(1000))
    assert draw_record_keys(0).shape == (0,)
    with pytest.raises(ValueError, match="cannot draw -1"):
        draw_record_keys(-1)


def test_cell_key_is_the_exact_fractional_part_of_the_sum_of_record_keys() -> None:
    keys = np.array([KEY_MODULUS - 1, KEY_MODULUS // 2, 3, KEY_MODULUS // 4], dtype=np.int64)
    # (1 - 2^-32) + 0.5 + 3 * 2^-32 + 0.25 = 1.75 + 2 * 2^-32 → 0.75 + 2^-31, in any order.
    expected = 0.75 + 2.0**-31
    assert cell_keys(keys.sum()) == expected
    assert cell_keys(keys[::-1].cumsum()[-1]) == expected
    assert cell_keys([0, KEY_MODULUS, 3 * KEY_MODULUS + 1]).tolist() == [0.0, 0.0, 2.0**-32]


def test_lookup_takes_the_interval_the_cell_key_falls_in() -> None:
    table = PerturbationTable.build(max_noise=2, variance=1)
    row = table.rows[2]
    first, second = float(row.upper[0]), float(row.upper[1])
    keys = [0.0, np.nextafter(first, 0), first, second, np.nextafter(1.0, 0)]
    assert table.noise([50] * 5, keys).tolist() == [-2, -2, -1, 0, 2]
    assert table.noise([0, 0], [0.0, 0.99]).tolist() == [0, 0]
    with pytest.raises(ValueError, match="cell keys in"):
        table.noise([3], [1.0])


# --- the published tables ----------------------------------------------------------------------


@pytest.fixture
def records() -> pd.DataFrame:
    """3,000 records over three dimensions, each with its record key."""
    rng = np.random.default_rng(SEED)
    n = 3000
    return pd.DataFrame(
        {
            "a": rng.choice(list("pqrst"), size=n, p=[0.4, 0.3, 0.2, 0.08, 0.02]),
            "b": rng.integers(1, 5, size=n),
            "c": rng.choice(["x", "y", "z"], size=n),
            "count": 1,
            "key_sum": rng.integers(0, KEY_MODULUS, size=n),
        }
    )


def test_the_same_cell_reads_the_same_in_every_table(records: pd.DataFrame) -> None:
    table = PerturbationTable.build(max_noise=2, variance=1)
    by_ab = perturb_counts(records, ["a", "b"], table)
    by_ac = perturb_counts(records, ["a", "c"], table)
    by_a = perturb_counts(records, ["a"], table)
    by_ba = perturb_counts(records, ["b", "a"], table)

    def a_totals(frame: pd.DataFrame) -> dict[str, int]:
        rows = frame[frame["a"].notna() & frame.drop(columns=["a", "count"]).isna().all(axis=1)]
        return dict(zip(rows["a"], rows["count"], strict=True))

    assert a_totals(by_ab.margins) == a_totals(by_ac.margins) == a_totals(by_a.cells)
    grand = {int(f.margins["count"].iloc[-1]) for f in (by_ab, by_ac, by_a, by_ba)}
    assert len(grand) == 1
    ab = by_ab.cells.set_index(["a", "b"])["count"]
    ba = by_ba.cells.set_index(["a", "b"])["count"].reindex(ab.index)
    pd.testing.assert_series_equal(ab, ba)
    # Records given pre-grouped (finer than the table) publish exactly what they do one by one.
    finer = records.groupby(["a", "b", "c"], as_index=False)[["count", "key_sum"]].sum()
    pd.testing.assert_frame_equal(perturb_counts(finer, ["a", "b"], table).cells, by_ab.cells)
    # The noise did something: consistency is not the identity.
    assert (by_ab.cells["count"].to_numpy() != by_ab.original_cells).any()


def test_successive_releases_repeat_unchanged_cells_and_renoise_changed_ones() -> None:
    rng = np.random.default_rng(SEED + 1)
    table = PerturbationTable.build(max_noise=2, variance=1)
    first = record_groups(rng, rng.integers(20, 80, size=4000))
    changed = rng.random(4000) < 0.5
    added = record_groups(rng, np.where(changed, rng.integers(1, 4, size=4000), 0))
    before = perturb_counts(first, ["cell"], table).cells.set_index("cell")["count"]
    after_frame = perturb_counts(pd.concat([first, added]), ["cell"], table)
    after = after_frame.cells.set_index("cell")["count"]
    true_added = np.bincount(added["cell"], minlength=4000)

    assert (after[~changed] == before[~changed]).all()
    # Where records were added, the difference of the releases is the true number added only
    # when two independent noises happen to agree: sum of p^2 = 0.27 for this table.
    exact = (after - before).to_numpy()[changed] == true_added[changed]
    assert 0.2 < exact.mean() < 0.35


def test_margins_are_cells_of_their_own_and_tables_are_not_additive(
    records: pd.DataFrame,
) -> None:
    table = PerturbationTable.build(max_noise=2, variance=1)
    frame = perturb_counts(records, ["a", "b"], table)
    margins = frame.margins
    for _, margin in margins.iterrows():
        inside = records
        for dim in ("a", "b"):
            if margin[dim] is not None:
                inside = inside[inside[dim] == margin[dim]]
        expected = len(inside) + table.noise([len(inside)], cell_keys([inside["key_sum"].sum()]))
        assert margin["count"] == expected[0]
    row_sums = frame.cells.groupby("a")["count"].sum()
    row_totals = margins[margins["b"].isna() & margins["a"].notna()].set_index("a")["count"]
    assert (row_sums != row_totals.reindex(row_sums.index)).any()
    assert margins["count"].iloc[-1] != frame.cells["count"].sum()


def test_noise_is_unbiased_with_variance_v_and_follows_the_ptable() -> None:
    rng = np.random.default_rng(SEED + 2)
    table = PerturbationTable.build(max_noise=2, variance=1)
    sizes = np.r_[np.ones(40_000, np.int64), rng.integers(2, 60, size=100_000)]
    frame = perturb_counts(record_groups(rng, sizes), ["cell"], table)
    original = frame.original_cells
    noise = frame.cells["count"].to_numpy() - original
    assert np.abs(noise).max() <= 2
    assert (frame.cells["count"] >= 0).all()

    # Expected noise 0: standard error 1 / sqrt(140,000) = 0.0027; 0.013 is five of them.
    assert abs(noise.mean()) < 0.013
    large = noise[original >= table.symmetry]
    # Variance V = 1 where the ptable reaches it: standard error sqrt(1.5 / 100,000) = 0.0039.
    assert abs((large.astype(float) ** 2).mean() - 1.0) < 0.02
    # The whole distribution of each row, not only its moments (the lookup's order matters
    # for the asymmetric row of count 1).
    for count, observed in ((1, noise[original == 1]), (2, large)):
        row = table.rows[count]
        seen = np.array([(observed == v).sum() for v in row.noise])
        assert seen.sum() == len(observed)
        statistic = (
            ((seen - len(observed) * row.probabilities) ** 2) / (len(observed) * row.probabilities)
        ).sum()
        assert statistic < chi2.isf(CHI2_ALPHA, len(row.noise) - 1)


def test_js_keeps_small_counts_out_of_every_published_cell() -> None:
    rng = np.random.default_rng(SEED + 3)
    table = PerturbationTable.build(max_noise=3, variance=2.5, js=2)
    sizes = rng.integers(0, 11, size=30_000)
    groups = record_groups(rng, sizes)
    empty = pd.DataFrame({"cell": np.flatnonzero(sizes == 0), "count": 0, "key_sum": 0})
    frame = perturb_counts(pd.concat([groups, empty]), ["cell"], table)
    published = frame.cells["count"].to_numpy()
    assert len(published) == 30_000
    assert not np.isin(published, [1, 2]).any()
    assert (published[frame.original_cells == 0] == 0).all()
    assert (published[frame.original_cells > 0] == 0).any()  # small counts may become 0
    assert np.abs(published - frame.original_cells).max() <= 3


def test_summary_states_the_information_lost() -> None:
    table = PerturbationTable.build(max_noise=2, variance=1)
    groups = pd.DataFrame(
        {
            "g": ["u", "v", "w", "x"],
            "count": [0, 1, 40, 7],
            "key_sum": [0, 5, KEY_MODULUS // 2, 12345],
        }
    )
    frame = perturb_counts(groups, ["g"], table)
    deviation = frame.cells["count"].to_numpy() - frame.original_cells
    summary = frame.summary().as_dict()
    assert summary["method"] == "cell_key"
    assert summary["ptable"] == table.fingerprint
    assert (summary["cells"], summary["records"], summary["margins"]) == (4, 48, 1)
    assert summary["cells_changed"] == np.count_nonzero(deviation)
    assert summary["mean_abs_deviation"] == pytest.approx(np.abs(deviation[1:]).mean())
    assert summary["cells_to_zero"] == int(
        ((frame.original_cells > 0) & (frame.cells["count"] == 0)).sum()
    )
    assert summary["margins_changed"] == int(frame.margins["count"].iloc[0] != 48)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g.drop(columns="key_sum"), r"missing \['key_sum'\]"),
        (lambda g: g.assign(count=g["count"].astype(float)), "must hold integers"),
        (lambda g: g.assign(count=-g["count"]), "negative value in group"),
        (lambda g: g.assign(a=None), "contain missing values"),
        (lambda g: g.assign(count=0), "counts no record but has a key sum"),
        (lambda g: g.assign(count=pd.array([3, None], dtype="Int64")), "has missing values"),
    ],
)
def test_bad_groups_are_refused_with_the_reason(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    groups = pd.DataFrame({"a": ["p", "q"], "count": [3, 4], "key_sum": [10, 20]})
    table = PerturbationTable.build(max_noise=2, variance=1)
    with pytest.raises(ValueError, match=message):
        perturb_counts(change(groups), ["a"], table)
    with pytest.raises(ValueError, match="need 1 or 2 dimension columns"):
        perturb_counts(groups.assign(b=1, c=2), ["a", "b", "c"], table)
