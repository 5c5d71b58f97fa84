"""ARX's `adult` benchmark read through the value-mapping hierarchy API.

Facts from `../shared/reference/README.md` and the files in `arx-adult/` (ARX's `data/`):
`adult.csv` has 30,162 records, `;`-separated, one column per attribute (records with
a missing value were removed upstream, there is no missing-value marker left); each
`adult_hierarchy_<attribute>.csv` is `value;level1;…;*`, so its number of columns is the
attribute's number of levels (age 5: exact, 5, 10, 20 years, *). ARX's own adult tests
take `occupation` as the sensitive attribute and the eight other columns as
quasi-identifiers. Its expected optimal vectors are not compared here: they come from
ARX's metrics, not this engine's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from include.anonymization.criteria import PrivacyCriteria
from include.anonymization.hierarchies import EncodedColumn, hierarchy_from_csv
from include.anonymization.kanonymity import (
    SearchInputs,
    apply_generalization,
    find_optimal_generalization,
)
from include.anonymization.pii.reference_corpora import REFERENCE_DIR

ADULT_DIR = REFERENCE_DIR / "arx-adult"
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


def hierarchy_path(attribute: str) -> Path:
    return ADULT_DIR / f"adult_hierarchy_{attribute}.csv"


pytestmark = pytest.mark.skipif(
    not (ADULT_DIR / "adult.csv").is_file() or not all(hierarchy_path(a).is_file() for a in LEVELS),
    reason=f"ARX adult benchmark absent: {ADULT_DIR} (../shared/reference)",
)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    # age is read as integers: the hierarchy matches it by its decimal text
    return pd.read_csv(ADULT_DIR / "adult.csv", sep=";")


@pytest.fixture(scope="module")
def encoded(adult: pd.DataFrame) -> dict[str, EncodedColumn]:
    return {a: hierarchy_from_csv(hierarchy_path(a), a).encode(adult[a]) for a in LEVELS}


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
