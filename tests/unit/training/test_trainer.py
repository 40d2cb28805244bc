"""The trainer against independent references: the seed's own loop, and closed-form least squares."""

import numpy as np
import pytest
import torch
from torch import nn

from core.data import Scaler, make_dataset, split
from core.training import ConfigError, TrainConfig, train
from core.training.optimum import least_squares


def seed_loop(X: np.ndarray, y: np.ndarray, lr: float, epochs: int) -> list[float]:
    """The seed document's loop, verbatim in spirit: nn.Linear + nn.MSELoss + SGD, loss.item() every epoch."""
    model = nn.Linear(X.shape[1], 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    inputs = torch.tensor(X, dtype=torch.float32)
    targets = torch.tensor(y, dtype=torch.float32).unsqueeze(1)
    losses = []
    for _ in range(epochs):
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_losses_equal_the_seed_loop_on_raw_data():
    ds = make_dataset("linear_1d", n=200, noise=0.2, seed=1)
    cfg = TrainConfig(lr=0.01, epochs=100, test_fraction=0.0, standardize=False, init="zeros")
    ours = train(ds, cfg).history["train_loss"].to_numpy()
    ref = seed_loop(ds.X.to_numpy(), ds.y.to_numpy(), lr=0.01, epochs=100)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_losses_equal_the_seed_loop_on_standardized_house_prices():
    ds = make_dataset("house_prices", n=500, seed=2)
    cfg = TrainConfig(lr=0.01, epochs=100, test_fraction=0.0, standardize=True)
    ours = train(ds, cfg).history["train_loss"].to_numpy()
    X, y = ds.X.to_numpy(), ds.y.to_numpy()
    scaler = Scaler.fit(X, y)
    Xs, ys = scaler.transform(X, y)
    ref = np.array(seed_loop(Xs, ys, lr=0.01, epochs=100)) * scaler.y_std**2  # reported in price², as the app does
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


@pytest.mark.parametrize("optimizer,lr,epochs", [("sgd", 0.1, 3000), ("adam", 0.05, 3000)])
def test_converged_coefficients_equal_least_squares_in_original_units(optimizer, lr, epochs):
    ds = make_dataset("house_prices", n=1000, noise=0.1, seed=0)
    cfg = TrainConfig(optimizer=optimizer, lr=lr, epochs=epochs, test_fraction=0.2, seed=3)
    result = train(ds, cfg)
    assert result.status == "completed"
    # independent reference: numpy's lstsq on the very rows the trainer trained on
    X = np.column_stack([ds.X.to_numpy(), np.ones(len(ds))])[split(len(ds), 0.2, 3)[0]]
    y = ds.y.to_numpy()[split(len(ds), 0.2, 3)[0]]
    exact, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(list(result.coef.values()), exact[:-1], rtol=2e-3)
    assert result.intercept == pytest.approx(exact[-1], rel=2e-3)
    coef, intercept = least_squares(ds, rows=split(len(ds), 0.2, 3)[0])
    np.testing.assert_allclose([*coef.values(), intercept], exact, rtol=1e-9)


def test_every_epoch_reaches_on_epoch_in_order():
    seen = []
    result = train(make_dataset("linear_1d", n=50), TrainConfig(epochs=37), on_epoch=seen.append)
    assert [r["epoch"] for r in seen] == list(range(1, 38))
    assert len(result.history) == 37 and result.history["test_loss"].notna().all()


def test_stop_takes_effect_before_the_next_epoch():
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 5

    result = train(make_dataset("linear_1d", n=50), TrainConfig(epochs=1000), should_stop=should_stop)
    assert result.status == "stopped"
    assert len(result.history) == 5
    assert "after 5 of 1,000 epochs" in str(result.reason)


def test_a_huge_learning_rate_diverges_with_a_reason():
    result = train(make_dataset("house_prices", n=200), TrainConfig(lr=1e9, epochs=500))
    assert result.status == "diverged"
    assert len(result.history) < 10
    assert "learning rate" in str(result.reason) and "1e+09" in str(result.reason)


def test_same_seed_same_run_with_minibatches():
    ds = make_dataset("house_prices", n=300)
    cfg = TrainConfig(epochs=20, batch_size=32, init="random", optimizer="adam", seed=7)
    a, b = train(ds, cfg), train(ds, cfg)
    np.testing.assert_array_equal(a.history["train_loss"], b.history["train_loss"])
    assert a.coef == b.coef


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"epochs": 0}, "epochs must be a whole number from 1"),
        ({"lr": -0.1}, "learning rate must be a positive number"),
        ({"lr": float("nan")}, "learning rate must be a positive number"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of sgd, momentum, nesterov, adam"),
        ({"test_fraction": 0.95}, "test_fraction must be between 0 and 0.9"),
        ({"batch_size": 0}, "batch_size must be a positive whole number"),
        ({"early_stopping": 5, "test_fraction": 0.0}, "Early stopping watches the test loss"),
        ({"init": "given"}, "init='given' needs init_params"),
        ({"init": "given", "init_params": (1.0,)}, "init_params needs 2 numbers"),
        ({"model": "mlp", "hidden": (0,)}, "hidden must list 1 to 8 layers of 1 to 4,096 units"),
        ({"model": "mlp", "hidden": (4,) * 9}, "hidden must list 1 to 8 layers"),
        ({"seed": -1}, "seed must be a whole number from 0"),
        ({"grad_clip": -1.0}, "grad_clip must be a positive number"),
    ],
)
def test_bad_settings_are_refused_with_a_message(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        train(make_dataset("linear_1d", n=20), TrainConfig(**kwargs))


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_asking_for_cuda_without_one_says_so():
    with pytest.raises(ConfigError, match="cannot use a CUDA GPU"):
        train(make_dataset("linear_1d", n=20), TrainConfig(device="cuda"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    ds = make_dataset("house_prices", n=1000)
    cfg = TrainConfig(lr=0.1, epochs=300)
    cpu = train(ds, TrainConfig(**{**cfg.to_dict(), "device": "cpu"}))
    gpu = train(ds, TrainConfig(**{**cfg.to_dict(), "device": "cuda"}))
    assert gpu.device.startswith("cuda")
    np.testing.assert_allclose(gpu.history["train_loss"], cpu.history["train_loss"], rtol=1e-4)


REFERENCE_OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01),
    "momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.01),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.01),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.05, weight_decay=0.01),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.05, weight_decay=0.01),
}


def torch_reference_losses(ds, make_optimizer, max_norm: float | None = None, epochs: int = 30) -> list[float]:
    """The plain PyTorch loop from zero weights, full batch, MSE: the reference our trainer must retrace."""
    model = nn.Linear(1, 1)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    opt = make_optimizer(model.parameters())
    inputs = torch.tensor(ds.X.to_numpy(), dtype=torch.float32)
    targets = torch.tensor(ds.y.to_numpy(), dtype=torch.float32)
    losses = []
    for _ in range(epochs):
        loss = nn.MSELoss()(model(inputs).squeeze(-1), targets)
        opt.zero_grad()
        loss.backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("optimizer", list(REFERENCE_OPTIMIZERS))
def test_each_optimizer_matches_its_torch_optim_reference(optimizer):
    """Raw (unstandardized) data, so no gradient starts at exactly zero, where RMSprop amplifies rounding noise."""
    ds = make_dataset("linear_1d", n=64, seed=4)
    ref = torch_reference_losses(ds, REFERENCE_OPTIMIZERS[optimizer])
    cfg = TrainConfig(optimizer=optimizer, lr=0.05, weight_decay=0.01, epochs=30, test_fraction=0.0, standardize=False)
    np.testing.assert_allclose(train(ds, cfg).history["train_loss"], ref, rtol=1e-4)


def test_the_stable_learning_rate_bound_is_sharp():
    """lr = 0.9 × 2/λ_max converges; 1.1 × diverges, and the reason states the bound."""
    from core.training.optimum import stable_lr

    ds = make_dataset("house_prices", n=500, seed=5)
    tr, _ = split(len(ds), 0.2, 0)
    X = ds.X.to_numpy()[tr]
    bound = stable_lr((X - X.mean(0)) / X.std(0))
    ok = train(ds, TrainConfig(lr=0.9 * bound, epochs=3000))
    assert ok.status == "completed"
    exact, _ = least_squares(ds, rows=tr)
    np.testing.assert_allclose(list(ok.coef.values()), list(exact.values()), rtol=1e-3)
    bad = train(ds, TrainConfig(lr=1.1 * bound, epochs=3000))
    assert bad.status == "diverged"
    assert f"2/λ_max = {bound:.3g}" in str(bad.reason)


def test_early_stopping_ends_a_run_whose_test_loss_stalls():
    r = train(make_dataset("house_prices", n=300), TrainConfig(lr=0.1, epochs=20_000, early_stopping=20))
    assert r.status == "completed" and str(r.reason).startswith("Early stopping at epoch")
    assert len(r.history) < 20_000


@pytest.mark.parametrize(
    "schedule,expected",
    [
        ("step", [0.1] * 2 + [0.05] * 2 + [0.025]),
        ("warmup", [0.025, 0.05, 0.075, 0.1, 0.1]),
        ("exponential", [0.1 * 0.5**i for i in range(5)]),
    ],
)
def test_schedules_set_each_epochs_learning_rate(schedule, expected):
    cfg = TrainConfig(lr=0.1, epochs=5, schedule=schedule, step_size=2, gamma=0.5, warmup_epochs=4)
    np.testing.assert_allclose(train(make_dataset("linear_1d", n=40), cfg).history["lr"], expected)


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_robust_losses_train(loss):
    r = train(make_dataset("linear_1d", n=300, noise=0.1), TrainConfig(loss=loss, optimizer="adam", lr=0.05, epochs=400))
    assert r.status == "completed"
    assert r.coef["x"] == pytest.approx(2.0, rel=0.05)


def test_the_mlp_fits_a_curve_the_line_cannot():
    ds = make_dataset("linear_1d", n=400, noise=0.0)
    ds = type(ds)(X=ds.X, y=ds.X["x"] ** 2, name="parabola")
    line = train(ds, TrainConfig(optimizer="adam", lr=0.05, epochs=300))
    mlp = train(ds, TrainConfig(model="mlp", hidden=(16, 16), optimizer="adam", lr=0.01, epochs=300))
    assert mlp.coef == {} and mlp.history["test_loss"].iloc[-1] < 0.1 * line.history["test_loss"].iloc[-1]


def test_weights_are_recorded_every_epoch_for_small_models():
    r = train(make_dataset("linear_1d", n=50), TrainConfig(init="given", init_params=(-1.0, 3.0), epochs=5, lr=0.1))
    assert list(r.history.columns[-2:]) == ["w:x", "b"]
    assert r.history[["w:x", "b"]].iloc[0].tolist() != [-1.0, 3.0]  # after the first step
    assert r.history[["w:x", "b"]].iloc[-1].tolist() == pytest.approx(r.params)
    assert (r.history["grad_norm"] > 0).all()


def test_gradient_clipping_bounds_the_step():
    r = train(make_dataset("linear_1d", n=50), TrainConfig(init="given", init_params=(10.0, 10.0), epochs=1, lr=1.0, grad_clip=0.5))
    assert np.hypot(r.params[0] - 10, r.params[1] - 10) == pytest.approx(0.5, rel=1e-4)


def test_clipping_matches_torchs_clip_grad_norm():
    ds = make_dataset("linear_1d", n=64, seed=4)
    ref = torch_reference_losses(ds, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), max_norm=0.5)
    cfg = TrainConfig(optimizer="momentum", lr=0.05, grad_clip=0.5, epochs=30, test_fraction=0.0, standardize=False)
    np.testing.assert_allclose(train(ds, cfg).history["train_loss"], ref, rtol=1e-5)


def test_predictions_and_the_model_file_work_in_original_units(tmp_path):
    ds = make_dataset("house_prices", n=300)
    r = train(ds, TrainConfig(lr=0.1, epochs=2000))
    manual = ds.X.to_numpy() @ np.array(list(r.coef.values())) + r.intercept
    np.testing.assert_allclose(r.predict(ds.X), manual, rtol=1e-5)
    path = tmp_path / "model.pt"
    path.write_bytes(r.model_file())
    saved = torch.load(path, weights_only=True)  # no pickle of arbitrary objects
    assert saved["features"] == ["area_m2", "rooms"] and saved["config"]["lr"] == 0.1
    w = saved["state_dict"]["weight"].double().numpy()
    coef = saved["y_std"] * w / saved["x_std"].numpy()
    np.testing.assert_allclose(coef, list(r.coef.values()), rtol=1e-6)


@pytest.mark.parametrize("optimizer", list(REFERENCE_OPTIMIZERS))
def test_the_moments_path_gives_the_row_by_row_history(optimizer):
    """Full-batch linear MSE trains from the data's moments; a batch_size ≥ n takes the row-by-row path instead.
    A random start: from zeros the standardized bias gradient is rounding noise, which Adam and RMSprop amplify."""
    ds = make_dataset("house_prices", n=400, seed=6)
    cfg = TrainConfig(optimizer=optimizer, lr=0.05, epochs=60, weight_decay=0.01, grad_clip=1.0, schedule="cosine", init="random", seed=2)
    fast = train(ds, cfg).history
    rows = train(ds, TrainConfig(**{**cfg.to_dict(), "batch_size": 10**6})).history
    assert list(fast.columns) == list(rows.columns)
    np.testing.assert_allclose(fast.to_numpy(dtype=float), rows.to_numpy(dtype=float), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "cosine", "warmup"])
def test_each_schedule_matches_its_torch_scheduler(schedule):
    from core.training.trainer import lr_at

    cfg = TrainConfig(lr=0.3, epochs=40, schedule=schedule, step_size=7, gamma=0.8, warmup_epochs=9)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
    sched = torch.optim.lr_scheduler
    ref = {
        "constant": lambda: sched.ConstantLR(opt, factor=1.0),
        "step": lambda: sched.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma),
        "exponential": lambda: sched.ExponentialLR(opt, gamma=cfg.gamma),
        "cosine": lambda: sched.CosineAnnealingLR(opt, T_max=cfg.epochs),
        "warmup": lambda: sched.LambdaLR(opt, lambda e: min(1.0, (e + 1) / cfg.warmup_epochs)),
    }[schedule]()
    for epoch in range(1, cfg.epochs + 1):
        assert lr_at(cfg, epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        opt.step()
        ref.step()


@pytest.mark.parametrize(
    "every, seconds, flushed_before",
    [
        (10**9, 0.25, [0, 0, 0, 3, 3, 3, 6, 6, 6, 9]),  # by time: the fake clock moves 0.1 s an epoch, so every 3rd epoch
        (4, float("inf"), [0, 0, 0, 0, 4, 4, 4, 4, 8, 8]),  # by count, as SYNC_EVERY on a GPU
    ],
)
def test_pending_epochs_reach_the_host_by_time_or_by_count(monkeypatch, every, seconds, flushed_before):
    """The accelerator's batching logic, run on the CPU: on_epoch sees the rows only when the flush clock says so."""
    import itertools

    from core.training import trainer

    ticks = itertools.count()
    monkeypatch.setattr(trainer, "flush_clock", lambda device: trainer.FlushClock(every, seconds, clock=lambda: next(ticks) * 0.1))
    seen: list[int] = []
    received: list[dict] = []
    result = trainer.train(
        make_dataset("linear_1d", n=50, seed=0),
        TrainConfig(epochs=10, lr=0.1, device="cpu"),
        on_epoch=received.append,
        should_stop=lambda: seen.append(len(received)) and False,
    )
    assert seen == flushed_before  # rows on the host before each epoch starts
    assert [r["epoch"] for r in received] == list(range(1, 11)) and len(result.rows) == 10  # every epoch, in order, at the end
