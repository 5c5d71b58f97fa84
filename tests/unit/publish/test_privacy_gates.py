"""k and l measured on the rows about to be published, and the gate built on them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from include.publish import PublicationBlockedError
from include.publish.privacy_gates import measure_privacy, require_privacy

QIS = ["age", "region"]


def _frame(classes: dict[tuple[str, str], list[int]]) -> pd.DataFrame:
    rows = [
        {"age": age, "region": region, "score": score}
        for (age, region), scores in classes.items()
        for score in scores
    ]
    return pd.DataFrame(rows)


def test_k_is_the_smallest_class_and_distinct_l_the_fewest_values() -> None:
    frame = _frame(
        {
            ("20-29", "Bretagne"): [1, 2, 2, 3, 3, 3],
            ("30-39", "Bretagne"): [4, 4, 5, 5, 5],
            ("*", "Occitanie"): [1, 2, 3, 4, 5, 1, 2],
        }
    )
    measured = measure_privacy(frame, QIS, ["score"], "distinct")
    assert (measured.k, measured.l_diversity) == (5, 2)
    require_privacy("t", measured, k=5, l_required=2, l_kind="distinct")
    with pytest.raises(PublicationBlockedError, match="k=5, below the required k=6"):
        require_privacy("t", measured, k=6, l_required=2, l_kind="distinct")
    with pytest.raises(PublicationBlockedError, match="distinct l=2, below the required l=3"):
        require_privacy("t", measured, k=5, l_required=3, l_kind="distinct")


def test_entropy_l_is_exp_of_the_smallest_entropy_with_a_safety_margin() -> None:
    frame = _frame(
        {
            ("20-29", "Bretagne"): [1, 1, 2, 2],  # entropy ln 2 exactly: l = 2, on the boundary
            ("30-39", "Bretagne"): [1, 2, 3, 4],  # ln 4
        }
    )
    measured = measure_privacy(frame, QIS, ["score"], "entropy")
    assert measured.l_diversity == 2.0
    assert measured.smallest_entropy == pytest.approx(math.log(2))
    require_privacy("t", measured, k=4, l_required=1, l_kind="entropy")
    # Exactly on the boundary counts as failing, as in the anonymization step.
    with pytest.raises(PublicationBlockedError, match="entropy l=2, below the required l=2"):
        require_privacy("t", measured, k=4, l_required=2, l_kind="entropy")


def test_no_sensitive_field_means_no_l_and_no_rows_means_no_k() -> None:
    frame = _frame({("20-29", "Bretagne"): [1, 1, 1]})
    assert measure_privacy(frame, QIS, [], "distinct").l_diversity is None
    empty = measure_privacy(frame.iloc[0:0], QIS, ["score"], "distinct")
    assert (empty.k, empty.l_diversity) == (None, None)
    require_privacy("t", empty, k=5, l_required=2, l_kind="distinct")


def test_a_missing_quasi_identifier_value_forms_its_own_class() -> None:
    frame = _frame({("20-29", "Bretagne"): [1, 2, 3, 4, 5]})
    frame.loc[0, "region"] = None
    assert measure_privacy(frame, QIS, ["score"], "distinct").k == 1
