"""The reranker's numpy evaluation of a LightGBM text model gives LightGBM's own predictions."""

import lightgbm
import numpy as np
import pytest

from gridkb.application.candidates import FEATURES
from gridkb.application.rerank import Reranker, TreeEnsemble
from gridkb.errors import ConfigError
from tests.conftest import ROOT


def _rows(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    x = rng.uniform(-1, 3, size=(n, width))
    x[rng.random(x.shape) < 0.1] = 0.0  # zeros and NaN exercise the missing-value rules
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def test_the_committed_reranker_scores_as_lightgbm_does():
    text = (ROOT / "kb" / "reranker.txt").read_text(encoding="utf-8")
    x = _rows(np.random.default_rng(3), 500, len(FEATURES))
    expected = lightgbm.Booster(model_str=text).predict(x, num_threads=1)
    assert np.allclose(TreeEnsemble(text).predict(x), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("missing", ["nan", "zero"])
def test_a_model_fitted_on_missing_values_scores_as_lightgbm_does(missing):
    rng = np.random.default_rng(5)
    x = _rows(rng, 400, 4)
    y = (np.nan_to_num(x[:, 0]) + (x[:, 1] > 1) + rng.normal(0, 0.1, 400) > 1.2).astype(float)
    params = {"objective": "regression", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1, "zero_as_missing": missing == "zero"}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=25)
    probe = _rows(np.random.default_rng(9), 300, 4)
    assert np.allclose(TreeEnsemble(booster.model_to_string()).predict(probe), booster.predict(probe), rtol=0, atol=1e-9)


def test_an_unreadable_or_foreign_model_is_a_clear_config_error(tmp_path):
    broken = tmp_path / "reranker.txt"
    broken.write_text("tree\nversion=v4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reranker"):
        Reranker.load(broken)
    x = np.zeros((50, 2))
    booster = lightgbm.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 1}, lightgbm.Dataset(x, np.arange(50.0)), 2)
    broken.write_text(booster.model_to_string(), encoding="utf-8")
    with pytest.raises(ConfigError, match="refit"):
        Reranker.load(broken)
