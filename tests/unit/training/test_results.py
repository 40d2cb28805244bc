"""What the Train page reports, each number checked against an independent computation: numpy's lstsq, metrics by
hand, a forward pass written out, predictions from standardized weights."""

import numpy as np
import pytest

from core.data import Scaler, make_dataset
from core.plotting import decimate
from core.training import TrainConfig
from core.training.results import (
    RunData,
    coefficient_comparison,
    coefficient_paths,
    fit_report,
    live_predictions,
    next_settings,
    pace,
    predict,
    run_data,
    typical_inputs,
)


@pytest.fixture(scope="module")
def ds():
    return make_dataset("house_prices", n=200, noise=0.1, seed=3)


def test_run_data_splits_and_scales_the_training_rows_only(ds):
    data = run_data(ds, TrainConfig(test_fraction=0.25, seed=7))
    assert len(data.train_rows) == 150 and len(data.test_rows) == 50
    assert sorted([*data.train_rows, *data.test_rows]) == list(range(200))  # a partition of the rows
    train_X = ds.X.to_numpy()[data.train_rows]
    np.testing.assert_allclose(data.scaler.x_mean, train_X.mean(axis=0))
    np.testing.assert_allclose(data.scaler.x_std, train_X.std(axis=0))
    assert data.scaler.y_mean == pytest.approx(ds.y.to_numpy()[data.train_rows].mean())
    assert run_data(ds, TrainConfig(test_fraction=0.25, seed=8)).train_rows.tolist() != data.train_rows.tolist()


def test_run_data_without_standardizing_keeps_original_units(ds):
    scaler = run_data(ds, TrainConfig(standardize=False)).scaler
    assert scaler.x_mean.tolist() == [0.0, 0.0] and scaler.x_std.tolist() == [1.0, 1.0] and (scaler.y_mean, scaler.y_std) == (0.0, 1.0)


def test_pace_gives_rate_and_eta():
    p = pace(300, 1000, started_at=100.0, finished_at=None, now=103.0)
    assert (p.fraction, p.epochs_per_s, p.eta_s) == (0.3, 100.0, 7.0)
    done = pace(1000, 1000, started_at=100.0, finished_at=102.0, now=500.0)  # finished: timed to its end, not to now
    assert (done.fraction, done.epochs_per_s, done.eta_s) == (1.0, 500.0, 0.0)
    waiting = pace(0, 1000, started_at=None, finished_at=None, now=5.0)
    assert (waiting.fraction, waiting.epochs_per_s, waiting.eta_s) == (0.0, 0.0, None)


def test_a_pause_does_not_slow_the_rate_and_an_early_eta_is_not_shown():
    paused = pace(300, 1000, started_at=100.0, finished_at=None, now=113.0, paused_s=10.0)  # trained 3 s of the 13
    assert (paused.epochs_per_s, paused.eta_s, paused.shown_eta_s) == (100.0, 7.0, 7.0)
    first_frame = pace(10, 100_000, started_at=100.0, finished_at=None, now=100.4)  # 0.4 s in: the warm-up's rate
    assert first_frame.eta_s is not None and first_frame.shown_eta_s is None
    assert pace(1_000, 100_000, started_at=100.0, finished_at=None, now=102.0).shown_eta_s is None  # 1 % done: not yet


def standardized_history(epochs: int, seed: int = 0) -> tuple[dict[str, list], np.ndarray, np.ndarray]:
    """A trainer's recorded weights (training units) for two features: w per epoch and b per epoch."""
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(epochs, 2)), rng.normal(size=epochs)
    history = {"epoch": list(range(1, epochs + 1)), "w:area_m2": W[:, 0].tolist(), "w:rooms": W[:, 1].tolist(), "b": b.tolist()}
    return history, W, b


def test_live_predictions_equal_the_model_run_on_z_scores(ds):
    data = run_data(ds, TrainConfig())
    history, W, b = standardized_history(epochs=5)
    s = data.scaler
    expected = (((data.X - s.x_mean) / s.x_std) @ W[-1] + b[-1]) * s.y_std + s.y_mean  # the model as it trained
    np.testing.assert_allclose(live_predictions(data, history), expected, rtol=1e-10)


def test_live_predictions_need_the_weights(ds):
    data = run_data(ds, TrainConfig())
    assert live_predictions(data, {"epoch": [1], "train_loss": [0.5]}) is None  # an MLP records no weights
    assert live_predictions(data, {"epoch": [], "w:area_m2": [], "w:rooms": [], "b": []}) is None  # no epoch yet


def test_coefficient_paths_describe_the_same_lines_as_the_standardized_weights(ds):
    data = run_data(ds, TrainConfig())
    s = data.scaler
    history, W, b = standardized_history(epochs=7000)
    keep = decimate(7000)
    paths = coefficient_paths(history, data.features, s, keep)
    kept = [0, *range(7000)[keep]] if keep.start else list(range(7000)[keep])  # thin puts epoch 1 back
    assert set(paths) == {"area_m2", "rooms", "intercept"} and len(paths["rooms"]) == len(kept) < 7000
    coef = np.column_stack([paths["area_m2"], paths["rooms"]])
    x = data.X[:10]
    for row, epoch in enumerate(kept):  # same predictions in original units as the weights in training units
        expected = (((x - s.x_mean) / s.x_std) @ W[epoch] + b[epoch]) * s.y_std + s.y_mean
        np.testing.assert_allclose(x @ coef[row] + paths["intercept"][row], expected, rtol=1e-9)
    assert coefficient_paths({"epoch": [1], "train_loss": [0.5]}, data.features, s, keep) is None


def test_fit_report_matches_metrics_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    yhat = [1.5, 2.0, 2.0, 4.0, 7.0]
    data = RunData(["x"], np.zeros((5, 1)), y, train_rows=np.array([0, 1, 3]), test_rows=np.array([2, 4]), scaler=Scaler.identity(1))
    report = fit_report(data, yhat)
    # train rows 0, 1, 3: residuals -0.5, 0, 0 · y mean 7/3, SS_tot = (4/3)² + (1/3)² + (5/3)² = 42/9
    assert report["train"]["MSE"] == pytest.approx(0.25 / 3)
    assert report["train"]["MAE"] == pytest.approx(0.5 / 3)
    assert report["train"]["R²"] == pytest.approx(1 - 0.25 / (42 / 9))
    # test rows 2, 4: residuals 1, -2 · y mean 4, SS_tot = 2
    assert report["test"]["MSE"] == pytest.approx(2.5) and report["test"]["RMSE"] == pytest.approx(2.5**0.5)
    assert report["test"]["R²"] == pytest.approx(1 - 5 / 2)


def test_fit_report_has_no_test_row_when_nothing_is_held_out(ds):
    data = run_data(ds, TrainConfig(test_fraction=0.0))
    assert list(fit_report(data, ds.y.to_numpy())) == ["train"]


def test_coefficient_comparison_against_lstsq(ds):
    data = run_data(ds, TrainConfig())
    A = np.column_stack([data.X[data.train_rows], np.ones(len(data.train_rows))])
    exact, *_ = np.linalg.lstsq(A, data.y[data.train_rows], rcond=None)
    trained = exact * np.array([1.02, 0.99, 1.0])  # area 2 % high, rooms 1 % low
    comparison = coefficient_comparison(ds, data.train_rows, {"area_m2": trained[0], "rooms": trained[1]}, trained[2])
    assert [r["parameter"] for r in comparison.rows] == ["area_m2", "rooms", "intercept"]
    np.testing.assert_allclose([r["least squares (exact)"] for r in comparison.rows], exact, rtol=1e-9)
    np.testing.assert_allclose([r["difference"] for r in comparison.rows], trained - exact, rtol=1e-6, atol=1e-9)
    assert comparison.distance == pytest.approx(np.linalg.norm(trained - exact) / np.linalg.norm(exact))


def test_typical_inputs_are_the_rounded_medians(ds):
    inputs = typical_inputs(ds)
    assert list(inputs) == ["area_m2", "rooms"]
    assert inputs["area_m2"] == pytest.approx(np.median(ds.X["area_m2"]), rel=1e-3)


def test_predict_linear_and_mlp_against_a_forward_pass_written_out():
    rng = np.random.default_rng(0)
    scaler = Scaler(np.array([100.0, 3.0]), np.array([20.0, 1.0]), 400_000.0, 50_000.0)
    x = [120.0, 4.0]
    z = np.array([(120 - 100) / 20, (4 - 3) / 1])  # = [1, 1]

    linear = {"weight": np.array([0.5, -0.25]), "bias": np.array(0.1)}
    assert predict(linear, scaler, "tanh", x) == pytest.approx((0.5 - 0.25 + 0.1) * 50_000 + 400_000)

    W1, b1, W2, b2 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(1, 3)), rng.normal(size=1)
    mlp = {"net.0.weight": W1, "net.0.bias": b1, "net.2.weight": W2, "net.2.bias": b2}
    for activation, f in (("tanh", np.tanh), ("relu", lambda h: np.maximum(h, 0))):
        hidden = [f(sum(W1[j, i] * z[i] for i in range(2)) + b1[j]) for j in range(3)]
        out = sum(W2[0, j] * hidden[j] for j in range(3)) + b2[0]
        assert predict(mlp, scaler, activation, x) == pytest.approx(out * 50_000 + 400_000)


@pytest.mark.parametrize("preset", ["house_prices", "linear_1d", "polynomial"])
def test_the_suggested_next_run_reaches_least_squares(preset):
    """The rate and epochs offered after a short run, from the Hessian alone, do take plain gradient descent to the
    optimum: checked by training them and comparing with numpy.linalg.lstsq."""
    from core.training import train

    ds = make_dataset(preset, n=400, seed=2)
    short = TrainConfig(lr=0.01, epochs=100)
    data = run_data(ds, short)
    better = next_settings(short, data, diverged=False)
    assert better is not None and better.lr < stable_lr_of(data) and better.epochs <= 100_000
    result = train(ds, better)
    A = np.column_stack([data.X[data.train_rows], np.ones(len(data.train_rows))])
    exact, *_ = np.linalg.lstsq(A, data.y[data.train_rows], rcond=None)
    trained = np.array([*result.coef.values(), result.intercept])
    assert np.linalg.norm(trained - exact) / np.linalg.norm(exact) < 0.01


def stable_lr_of(data) -> float:
    """2/λ_max of the MSE Hessian in training units, computed here from scratch."""
    X = (data.X[data.train_rows] - data.scaler.x_mean) / data.scaler.x_std
    A = np.column_stack([X, np.ones(len(X))])
    return 2.0 / np.linalg.eigvalsh(2.0 / len(X) * A.T @ A).max()


def test_after_another_optimizer_diverges_a_tenth_of_the_rate_is_offered_and_nothing_after_a_good_run(ds):
    adam = TrainConfig(optimizer="adam", lr=5.0)
    data = run_data(ds, adam)
    assert next_settings(adam, data, diverged=True).lr == 0.5
    assert next_settings(adam, data, diverged=False) is None
