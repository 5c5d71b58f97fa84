"""The optimal k-anonymity / l-diversity search, checked against pycanon and an exhaustive search.

pycanon (an independent library) checks every published table; an exhaustive
search written here in plain Python (every lattice node, every class, every cell)
checks feasibility and optimality under the stated loss measure.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pycanon import anonymity

from include.anonymization.criteria import ENTROPY_MARGIN
from include.anonymization.kanonymity import (
    AnonymizationResult,
    InfeasibleGeneralizationError,
    SearchInputs,
    anonymize,
    apply_generalization,
    build_search_inputs,
    find_optimal_generalization,
    kept_rows_by_part,
)
from include.core.metric_spec import MetricSpec
from include.core.source_config import SOURCES_DIR, LossMeasure, SourceConfig, load_source_config
from include.publish.summaries import summarize_anonymization
from tests.unit.anonymization.metric_specs import EXAMPLE_METRICS

OCCUPATIONS = {
    "agriculteur": "independants",
    "artisan_commercant": "independants",
    "cadre": "salaries",
    "employe": "salaries",
    "ouvrier": "salaries",
    "retraite": "inactifs",
}
POSTCODES = ["75001", "75011", "92100", "13001", "69003", "20000", "20200", "97400", "97110"]
FIELDS: dict[str, dict[str, Any]] = {
    "age": {
        "type": "integer",
        "minimum": 15,
        "maximum": 99,
        "hierarchy": {"kind": "numeric_bands", "widths": [10, 20]},
    },
    "gender": {"type": "category", "allowed": ["F", "M", "X"], "hierarchy": {"kind": "suppress"}},
    "postcode": {"type": "string", "hierarchy": {"kind": "postcode_fr"}},
    "submitted_at": {
        "type": "datetime",
        "hierarchy": {"kind": "date", "levels": ["month", "year"]},
    },
    "occupation": {
        "type": "category",
        "allowed": list(OCCUPATIONS),
        "hierarchy": {"kind": "grouping", "levels": [OCCUPATIONS]},
    },
}
SENSITIVE: dict[str, dict[str, Any]] = {
    "opinion": {"type": "category", "allowed": ["pour", "contre", "neutre", "sans_avis"]},
    "q_transports": {"type": "integer", "minimum": 1, "maximum": 5},
}


def make_config(
    quasi: list[str],
    sensitive: list[str],
    *,
    k: int,
    l_diversity: int = 1,
    l_kind: str = "distinct",
    cap: float = 0.0,
) -> SourceConfig:
    fields = [{"name": "rid", "type": "integer", "role": "other"}]
    fields += [{"name": n, "role": "quasi_identifier", **FIELDS[n]} for n in quasi]
    fields += [{"name": n, "role": "sensitive", **SENSITIVE[n]} for n in sensitive]
    return SourceConfig.model_validate(
        {
            "name": "test",
            "title": "t",
            "description": "d",
            "id_field": "rid",
            "retention_days": 1,
            "k": k,
            "l": l_diversity,
            "l_kind": l_kind,
            "max_suppression": cap,
            "fields": fields,
        }
    )


def random_table(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Seeded records with every field of `FIELDS` and `SENSITIVE`."""
    return pd.DataFrame(
        {
            "rid": np.arange(rows),
            "age": rng.integers(15, 100, rows),
            "gender": rng.choice(np.array(["F", "M", "X"]), rows, p=[0.48, 0.48, 0.04]),
            "postcode": rng.choice(np.array(POSTCODES), rows),
            # The commune_fr hierarchy places a commune by its record's postcode.
            "commune": np.where(
                rng.random(rows) < 0.9, rng.choice(np.array(["Lyon", "Bron", "Paris"]), rows), None
            ),
            "submitted_at": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 730 * 24, rows), unit="h"),
            "occupation": rng.choice(np.array(list(OCCUPATIONS)), rows),
            "opinion": rng.choice(np.array(SENSITIVE["opinion"]["allowed"]), rows),
            "q_transports": rng.integers(1, 6, rows),
        }
    )


# --- independent checks ----------------------------------------------------------------------


def assert_verified_by_pycanon(published: pd.DataFrame, inputs: SearchInputs) -> None:
    """pycanon's own k, l and entropy l on the published rows."""
    criteria = inputs.criteria
    quasi = [c.field for c in inputs.quasi_identifiers]
    assert anonymity.k_anonymity(published, quasi) >= criteria.k
    if criteria.l_diversity > 1:
        sensitive = [s.field for s in inputs.sensitive]
        if criteria.l_kind == "distinct":
            assert anonymity.l_diversity(published, quasi, sensitive) >= criteria.l_diversity
        else:
            found = anonymity.entropy_l_diversity(published, quasi, sensitive)
            assert found >= criteria.l_diversity


@dataclass(frozen=True)
class NodeOutcome:
    feasible: bool
    suppressed_rows: frozenset[int]
    loss: float


def exhaustive(data: pd.DataFrame, inputs: SearchInputs) -> dict[tuple[int, ...], NodeOutcome]:
    """Every lattice node, classes formed row by row, loss summed cell by cell."""
    criteria = inputs.criteria
    n_rows = len(data)
    allowed = math.floor(Decimal(str(criteria.max_suppression)) * n_rows)
    columns = inputs.quasi_identifiers
    labels = [[list(c.generalized(lv)) for lv in range(c.top + 1)] for c in columns]
    cell_loss = []
    for column_labels in labels:
        originals = column_labels[0]
        domain = len(set(originals))
        per_level = []
        for level_labels in column_labels:
            covered: dict[object, set[object]] = defaultdict(set)
            for label, original in zip(level_labels, originals, strict=True):
                covered[label].add(original)
            per_level.append(
                [(len(covered[x]) - 1) / (domain - 1) if domain > 1 else 0.0 for x in level_labels]
            )
        cell_loss.append(per_level)
    sensitive = [list(data[s.field]) for s in inputs.sensitive]
    outcomes = {}
    for levels in itertools.product(*(range(c.top + 1) for c in columns)):
        classes: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for row in range(n_rows):
            key = tuple(labels[i][lv][row] for i, lv in enumerate(levels))
            classes[key].append(row)
        suppressed: set[int] = set()
        for rows in classes.values():
            fails = len(rows) < criteria.k
            for values in sensitive if criteria.l_diversity > 1 else []:
                counts = Counter(values[r] for r in rows)
                if criteria.l_kind == "distinct":
                    fails |= len(counts) < criteria.l_diversity
                else:
                    entropy = -sum(c / len(rows) * math.log(c / len(rows)) for c in counts.values())
                    fails |= entropy < math.log(criteria.l_diversity) + ENTROPY_MARGIN
            if fails:
                suppressed.update(rows)
        if inputs.metric.name == "lm":
            lost = sum(
                1.0 if row in suppressed else cell_loss[i][lv][row]
                for row in range(n_rows)
                for i, lv in enumerate(levels)
            )
            loss = lost / (n_rows * len(levels))
        else:
            node_labels = [labels[i][lv] for i, lv in enumerate(levels)]
            loss = arx_loss_by_hand(inputs.metric, labels, node_labels, suppressed)
        outcomes[levels] = NodeOutcome(
            feasible=len(suppressed) <= allowed,
            suppressed_rows=frozenset(suppressed),
            loss=loss,
        )
    return outcomes


def arx_loss_by_hand(
    spec: MetricSpec,
    labels: list[list[list[object]]],
    node_labels: list[list[object]],
    suppressed: set[int],
) -> float:
    """ARX's Loss or non-uniform entropy of one node, record by record (ARX's formulas).

    `labels[i][0]` are attribute i's original values, `node_labels[i]` its labels at the
    node; the domain is the values present (no value-mapping file here).
    """
    g, s = spec.generalization_factor, spec.suppression_factor
    n = len(labels[0][0])
    values = []
    for i, published in enumerate(node_labels):
        originals = labels[i][0]
        if spec.name == "arx_loss":
            domain = len(set(originals))
            covered: dict[object, set[object]] = defaultdict(set)
            for label, original in zip(published, originals, strict=True):
                covered[label].add(original)
            total = 0.0
            for row in range(n):
                share = len(covered[published[row]]) / domain
                if row not in suppressed:
                    total += g * share
                else:
                    total += 1.0 if s == 1 else share + s * (1 - share)
            low = g * n / domain
            value = max((total - low) / (n - low), 0.0) if n != low else 0.0
        else:
            of_value, of_label = Counter(originals), Counter(published)
            value = -g * sum(
                math.log2(of_value[originals[row]] / of_label[published[row]]) for row in range(n)
            )
            if not spec.monotonic and suppressed:
                hidden = Counter(published[row] for row in suppressed)
                value -= s * sum(c * math.log2(c / len(suppressed)) for c in hidden.values())
        values.append(math.floor(value * 1e10) / 1e10)
    if spec.name == "arx_loss":
        return math.prod((v + 1) ** (1 / len(values)) for v in values) - 1
    return sum(values)


def assert_optimal(
    data: pd.DataFrame, inputs: SearchInputs, result: AnonymizationResult
) -> dict[tuple[int, ...], NodeOutcome]:
    outcomes = exhaustive(data, inputs)
    chosen = outcomes[tuple(result.levels.values())]
    best = min(o.loss for o in outcomes.values() if o.feasible)
    assert chosen.feasible
    assert set(result.suppressed_indices.tolist()) == chosen.suppressed_rows
    assert result.information_loss == pytest.approx(chosen.loss, rel=1e-9, abs=1e-9)
    assert result.information_loss == pytest.approx(best, rel=1e-9, abs=1e-9)
    return outcomes


def check_published(
    data: pd.DataFrame, inputs: SearchInputs, result: AnonymizationResult
) -> pd.DataFrame:
    """Apply the result and check it against pycanon and the result's own figures."""
    published = apply_generalization(data, inputs, result)
    assert len(published) == len(data) - result.n_suppressed
    assert result.n_suppressed <= inputs.criteria.max_suppressed(len(data))
    assert_verified_by_pycanon(published, inputs)
    quasi = [c.field for c in inputs.quasi_identifiers]
    sizes = published.groupby(quasi, sort=False).size()
    assert dict(Counter(sizes.tolist())) == result.class_sizes
    assert result.max_risk == pytest.approx(1 / sizes.min())
    assert result.average_risk == pytest.approx(len(sizes) / len(published))
    return published


# --- property-based: any small table ------------------------------------------------------


@st.composite
def small_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, SourceConfig]:
    rows = draw(st.integers(1, 40))
    quasi = draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=3, unique=True))
    sensitive = draw(
        st.lists(st.sampled_from(sorted(SENSITIVE)), min_size=1, max_size=2, unique=True)
    )

    def column(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(values, min_size=rows, max_size=rows))

    hours = column(st.integers(0, 2 * 365 * 24))
    data = pd.DataFrame(
        {
            "rid": range(rows),
            "age": column(st.integers(15, 99)),
            "gender": column(st.sampled_from(["F", "M", "X"])),
            "postcode": column(st.sampled_from(POSTCODES)),
            "submitted_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(hours, unit="h"),
            "occupation": column(st.sampled_from(sorted(OCCUPATIONS))),
            "opinion": column(st.sampled_from(SENSITIVE["opinion"]["allowed"])),
            "q_transports": column(st.integers(1, 3)),
        }
    )
    config = make_config(
        quasi,
        sensitive,
        k=draw(st.integers(2, 4)),
        l_diversity=draw(st.integers(1, 3)),
        l_kind=draw(st.sampled_from(["distinct", "entropy"])),
        cap=draw(st.sampled_from([0.0, 0.1, 0.25, 0.5])),
    )
    return data, config


PROPERTY_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=250,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def search(inputs: SearchInputs) -> AnonymizationResult | InfeasibleGeneralizationError:
    """The search's answer: a result, or the error explaining why there is none."""
    try:
        return find_optimal_generalization(inputs)
    except InfeasibleGeneralizationError as error:
        return error


@PROPERTY_SETTINGS
@given(small_cases())
def test_output_meets_k_and_l_or_reports_why(case: tuple[pd.DataFrame, SourceConfig]) -> None:
    data, config = case
    inputs = build_search_inputs(config, data)
    answer = search(inputs)
    event(type(answer).__name__)
    if isinstance(answer, InfeasibleGeneralizationError):
        assert not any(o.feasible for o in exhaustive(data, inputs).values())
        assert "even with every quasi-identifier generalized to '*'" in answer.reason
        assert answer.fewest_suppressed > answer.max_suppressed
    else:
        event("some suppression" if answer.n_suppressed else "no suppression")
        check_published(data, inputs, answer)


METRICS = st.sampled_from(EXAMPLE_METRICS)


@PROPERTY_SETTINGS
@given(small_cases(), METRICS)
def test_optimum_equals_exhaustive_search(
    case: tuple[pd.DataFrame, SourceConfig], metric: MetricSpec
) -> None:
    data, config = case
    inputs = replace(build_search_inputs(config, data), metric=metric)
    answer = search(inputs)
    if isinstance(answer, InfeasibleGeneralizationError):
        assert not any(o.feasible for o in exhaustive(data, inputs).values())
    else:
        event(f"{metric.name}, {config.l_kind} l={config.l_diversity}")
        assert_optimal(data, inputs, answer)


def test_a_source_config_chooses_the_measure_and_the_summary_names_it() -> None:
    data = random_table(np.random.default_rng(3), 60)
    config = make_config(["age", "gender"], [], k=3, cap=0.1).model_copy(
        update={"information_loss": LossMeasure(name="non_uniform_entropy", gs_factor=0.3)}
    )
    inputs = build_search_inputs(config, data)
    assert inputs.metric == MetricSpec("non_uniform_entropy", gs_factor=0.3)
    result = find_optimal_generalization(inputs)
    assert_optimal(data, inputs, result)
    assert summarize_anonymization(result)["metric"] == {
        "name": "non_uniform_entropy",
        "gs_factor": 0.3,
        "monotonic": False,
    }


# --- entropy l-diversity is not monotone ------------------------------------------------------


def test_entropy_search_is_sound_where_feasibility_is_not_monotone() -> None:
    # Farmers and clerks answer a, a, a, b, c (e^H ≈ 2.6 ≥ 2); craftsmen and executives all
    # answer a. Kept exact, the two uniform classes are suppressed (10 of 20, the cap) and
    # the rest published. Grouped (farmers with craftsmen, executives with clerks), each
    # group holds a × 8, b, c: e^H ≈ 1.9 < 2, so everything fails. The search evaluates the
    # grouped node first (middle of its chain): pruning below it would lose the optimum.
    diverse = ["pour", "pour", "pour", "contre", "neutre"]
    data = pd.DataFrame(
        {
            "rid": range(20),
            "occupation": ["agriculteur"] * 5
            + ["artisan_commercant"] * 5
            + ["employe"] * 5
            + ["cadre"] * 5,
            "opinion": diverse + ["pour"] * 5 + diverse + ["pour"] * 5,
        }
    )
    inputs = build_search_inputs(
        make_config(["occupation"], ["opinion"], k=2, l_diversity=2, l_kind="entropy", cap=0.5),
        data,
    )
    result = find_optimal_generalization(inputs)
    outcomes = assert_optimal(data, inputs, result)
    assert outcomes[(0,)].feasible
    assert not outcomes[(1,)].feasible  # above a feasible node, yet infeasible
    assert result.levels == {"occupation": 0}
    assert result.suppressed_indices.tolist() == [*range(5, 10), *range(15, 20)]
    check_published(data, inputs, result)


# --- realistic tables -------------------------------------------------------------------------


def load_bench_module() -> Any:
    path = Path(__file__).resolve().parents[3] / "bench" / "bench_kanonymity.py"
    spec = importlib.util.spec_from_file_location("bench_kanonymity", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("l_diversity", "l_kind"), [(1, "distinct"), (2, "distinct"), (3, "entropy")]
)
def test_benchmark_table_optimum_matches_exhaustive(l_diversity: int, l_kind: str) -> None:
    bench = load_bench_module()
    data = bench.synthetic_table(600, seed=11)
    config = bench.benchmark_config(l_diversity).model_copy(update={"l_kind": l_kind})
    inputs = build_search_inputs(config, data)
    result = find_optimal_generalization(inputs)
    assert result.lattice_size == 480
    assert result.nodes_evaluated < result.lattice_size
    assert_optimal(data, inputs, result)
    check_published(data, inputs, result)


@pytest.mark.parametrize("pieces", [1, 3, 7])
def test_columns_left_out_of_the_search_come_back_on_the_kept_rows(pieces: int) -> None:
    """Anonymizing without the free text, then taking its kept rows piece by piece, gives
    the rows anonymizing the whole frame gives (the anonymize stage's memory-lean path)."""
    config = load_source_config(SOURCES_DIR / "signalements.yaml")
    rng = np.random.default_rng(9)
    data = random_table(rng, 800).rename(columns={"rid": config.id_field})
    data["description"] = pd.array([f"texte {i} é’" for i in range(len(data))], dtype="str")
    data.loc[rng.random(len(data)) < 0.1, "description"] = None
    whole, result = anonymize(config, data)
    assert result.n_suppressed > 0  # the pieces must skip rows for the test to mean something
    lean, lean_result = anonymize(config, data.drop(columns="description"))
    assert lean_result.levels == result.levels
    bounds = np.linspace(0, len(data), pieces + 1).astype(int)
    parts = [data[["description"]].iloc[a:b] for a, b in itertools.pairwise(bounds)]
    pieces_out = list(kept_rows_by_part(lean, parts, lean_result.suppressed))
    assert len(pieces_out) == pieces
    restored = pd.concat(pieces_out, ignore_index=True)
    pd.testing.assert_frame_equal(restored[whole.columns], whole)
    with pytest.raises(ValueError, match="search ran on"):
        list(kept_rows_by_part(lean, parts[:-1] if pieces > 1 else [], lean_result.suppressed))
    with pytest.raises(ValueError, match="more rows than"):
        list(kept_rows_by_part(lean, [*parts, parts[0]], lean_result.suppressed))


@pytest.mark.parametrize("source", ["consultation", "signalements"])
def test_source_configs_end_to_end(source: str) -> None:
    config = load_source_config(SOURCES_DIR / f"{source}.yaml")
    data = random_table(np.random.default_rng(5), 3000).rename(columns={"rid": config.id_field})
    published, result = anonymize(config, data)
    inputs = build_search_inputs(config, data)
    assert published.equals(apply_generalization(data, inputs, result))
    check_published(data, inputs, result)
    kept = data.loc[~result.suppressed].reset_index(drop=True)
    assert published[config.id_field].tolist() == kept[config.id_field].tolist()
    for spec in config.quasi_identifiers:
        if result.levels[spec.name] == 0:
            assert published[spec.name].tolist() == kept[spec.name].tolist()
        else:
            assert set(published[spec.name]).isdisjoint(set(kept[spec.name]))


def test_result_describes_the_chosen_generalization() -> None:
    data = random_table(np.random.default_rng(1), 400)
    inputs = build_search_inputs(
        make_config(["age", "gender", "postcode"], ["opinion"], k=3, l_diversity=2, cap=0.05),
        data,
    )
    result = find_optimal_generalization(inputs)
    assert result.quasi_identifiers == ("age", "gender", "postcode")
    assert set(result.level_names) == set(result.levels)
    for column in inputs.quasi_identifiers:
        assert result.level_names[column.field] == column.level_names[result.levels[column.field]]
    assert result.min_class_size >= 3
    assert result.max_risk == 1 / result.min_class_size
    assert sum(size * count for size, count in result.class_sizes.items()) == (
        result.n_records - result.n_suppressed
    )
    assert 0 <= result.generalization_loss <= result.information_loss <= 1
    assert 0 < result.nodes_evaluated <= result.lattice_size == 4 * 2 * 4
    assert "records suppressed" in result.summary()


def test_tiny_table_cache_gives_the_same_result() -> None:
    data = random_table(np.random.default_rng(2), 2000)
    inputs = build_search_inputs(
        make_config(["age", "postcode", "submitted_at"], ["opinion"], k=4, l_diversity=2, cap=0.1),
        data,
    )
    default = find_optimal_generalization(inputs)
    starved = find_optimal_generalization(inputs, cache_bytes=0)
    assert starved.levels == default.levels
    assert starved.information_loss == default.information_loss
    assert np.array_equal(starved.suppressed, default.suppressed)


# --- when no generalization works -------------------------------------------------------------


def test_fewer_records_than_k_is_explained() -> None:
    data = random_table(np.random.default_rng(3), 3)
    inputs = build_search_inputs(make_config(["age", "gender"], [], k=5, cap=0.5), data)
    with pytest.raises(InfeasibleGeneralizationError, match=r"only 3 record\(s\), fewer than k=5"):
        find_optimal_generalization(inputs)


def test_sensitive_field_with_too_few_values_is_explained() -> None:
    data = random_table(np.random.default_rng(4), 50).assign(opinion="pour")
    inputs = build_search_inputs(
        make_config(["age"], ["opinion"], k=2, l_diversity=2, cap=0.05), data
    )
    with pytest.raises(InfeasibleGeneralizationError) as caught:
        find_optimal_generalization(inputs)
    assert "'opinion' takes only 1 distinct value(s) over all records, fewer than l=2" in str(
        caught.value
    )
    assert caught.value.max_suppressed == 2
    assert caught.value.fewest_suppressed == 50
    assert caught.value.lattice_size == 4


def test_concentrated_sensitive_field_is_explained_for_entropy() -> None:
    data = random_table(np.random.default_rng(6), 20)
    data["opinion"] = ["pour"] * 18 + ["contre", "neutre"]
    inputs = build_search_inputs(
        make_config(["gender"], ["opinion"], k=2, l_diversity=2, l_kind="entropy", cap=0.1),
        data,
    )
    with pytest.raises(InfeasibleGeneralizationError, match="'opinion' is too concentrated"):
        find_optimal_generalization(inputs)


def test_empty_table_and_missing_columns_are_refused() -> None:
    config = make_config(["age"], ["opinion"], k=2, l_diversity=2)
    with pytest.raises(ValueError, match="no records"):
        find_optimal_generalization(
            build_search_inputs(config, random_table(np.random.default_rng(0), 0))
        )
    with pytest.raises(ValueError, match=r"the data has no column \['opinion'\]"):
        build_search_inputs(
            config, random_table(np.random.default_rng(0), 5).drop(columns="opinion")
        )


def test_applying_to_another_frame_is_refused() -> None:
    data = random_table(np.random.default_rng(8), 30)
    inputs = build_search_inputs(make_config(["gender"], [], k=2, cap=0.5), data)
    result = find_optimal_generalization(inputs)
    with pytest.raises(ValueError, match="the data has 29 rows but the search ran on 30"):
        apply_generalization(data.iloc[1:], inputs, result)


def test_l_without_sensitive_field_is_refused() -> None:
    data = random_table(np.random.default_rng(9), 10)
    inputs = build_search_inputs(make_config(["gender"], [], k=2), data)
    with pytest.raises(ValueError, match="needs at least one sensitive field"):
        replace(inputs, criteria=replace(inputs.criteria, l_diversity=2))
