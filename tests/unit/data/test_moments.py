"""One-pass column statistics against numpy's two-pass mean, cov and the definition of the second moments."""

import numpy as np
import pytest

import core.data.moments as moments
from core.data.moments import column_stats
from core.data.preprocess import split


@pytest.mark.parametrize("chunk", [7, 32_768])  # several chunks and a ragged last one, or one chunk
@pytest.mark.parametrize("subset", [False, True])
def test_column_stats_match_numpy(monkeypatch, chunk, subset):
    monkeypatch.setattr(moments, "CHUNK_ROWS", chunk)
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.normal([140.0, 3.5, -2.0], [60.0, 1.6, 0.1], (1000, 3)))
    y = X @ [3000.0, 20000.0, 5.0] + 50_000 + rng.normal(0, 2e4, 1000)
    rows = np.sort(rng.choice(1000, 300, replace=False)) if subset else None
    Z = np.column_stack([X, y])[rows if subset else slice(None)]
    s = column_stats(X, y, rows)
    assert s.n == len(Z)
    np.testing.assert_allclose(s.mean, Z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.cov, np.cov(Z.T, bias=True), rtol=1e-9, atol=1e-9 * np.abs(s.cov).max())
    np.testing.assert_allclose(s.std, Z.std(axis=0), rtol=1e-12)


def test_a_large_offset_keeps_its_spread():
    """x ≈ 10⁹ varying by ~1: Σx² − n·x̄² would lose every digit of the variance in float64."""
    rng = np.random.default_rng(1)
    x = 1e9 + rng.normal(0, 1, 10_000)
    y = 2 * x + rng.normal(0, 1, 10_000)
    s = column_stats(x[:, None], y)
    assert s.std[0] == pytest.approx(x.std(), rel=1e-6)
    assert s.cov[0, 1] == pytest.approx(np.cov(x, y, bias=True)[0, 1], rel=1e-6)


def test_second_moments_are_those_of_the_transformed_rows():
    rng = np.random.default_rng(2)
    X = rng.normal(5, 3, (500, 2))
    y = rng.normal(-4, 2, 500)
    shift, scale = np.array([1.0, -2.0, 3.0]), np.array([2.0, 0.5, 4.0])
    B = np.column_stack([(X - shift[:2]) / scale[:2], np.ones(500), (y - shift[2]) / scale[2]])
    np.testing.assert_allclose(column_stats(X, y).second_moments(shift, scale), B.T @ B / 500, rtol=1e-10)


@pytest.mark.parametrize("n, fraction, seed", [(10, 0.2, 0), (1001, 0.25, 7), (50, 0.0, 3), (200_003, 0.3, 11)])
def test_split_is_the_sorted_permutation(n, fraction, seed):
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * fraction))
    train, test = split(n, fraction, seed)
    np.testing.assert_array_equal(train, np.sort(order[n_test:]))
    np.testing.assert_array_equal(test, np.sort(order[:n_test]))
