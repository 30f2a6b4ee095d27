"""Reliability tables and the expected calibration error, on fixtures whose answers are known."""

import pytest

from gridkb.evaluation.calibration import expected_calibration_error, format_reliability, reliability_table


def test_a_calibrated_confidence_has_no_error():
    confidences = [0.15] * 20 + [0.85] * 20
    outcomes = [i < 3 for i in range(20)] + [i < 17 for i in range(20)]  # 3 in 20 right, then 17 in 20
    table = reliability_table(confidences, outcomes)
    assert [(b.low, b.count, b.accuracy) for b in table] == [(0.1, 20, 0.15), (0.8, 20, 0.85)]
    assert expected_calibration_error(confidences, outcomes) == pytest.approx(0.0)


def test_overconfidence_is_the_gap_weighted_by_bin_size():
    confidences = [0.95] * 10 + [0.55] * 30
    outcomes = [False] * 10 + [True] * 15 + [False] * 15  # 0 % right at 0.95, 50 % at 0.55
    assert expected_calibration_error(confidences, outcomes) == pytest.approx(10 / 40 * 0.95 + 30 / 40 * 0.05)
    assert reliability_table([1.0], [True])[0].high == 1.0  # the last bin is closed
    rows = format_reliability(reliability_table(confidences, outcomes))
    assert rows[0].startswith("| confidence") and "| 0.9–1.0 | 10 | 0.950 | 0.000 |" in rows


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="probability"):
        reliability_table([1.5], [True])
    with pytest.raises(ValueError, match="outcomes"):
        reliability_table([0.5, 0.5], [True])
    assert expected_calibration_error([], []) == 0.0
