"""The classroom's maths against independent references: lstsq, a brute-force grid, autograd, and real runs."""

import numpy as np
import pytest
import torch

from core.classroom import LESSONS, Quadratic, observed_lane, predict_lane, surface
from core.classroom.landscape import grid_axes, loss_grid
from core.classroom.lessons import equation, labels, lane_config, path_from_history
from core.data import make_dataset
from core.training import train


def data(n=200, d=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(3.0, 2.0, (n, d))
    y = X @ rng.normal(size=d) + 0.5 + rng.normal(0, 0.3, n)
    return X, y


def brute_mse(X, y, theta):
    return float(np.mean((y - X @ theta[:-1] - theta[-1]) ** 2))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_optimum_matches_numpy_lstsq(d):
    X, y = data(d=d)
    ref = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]
    np.testing.assert_allclose(Quadratic.from_data(X, y).optimum(), ref, rtol=1e-9, atol=1e-9)


def test_grid_equals_brute_force_loss_and_its_minimum_is_the_optimum():
    X, y = data(d=1)
    q = Quadratic.from_data(X, y)
    opt = q.optimum()
    u, v = np.linspace(opt[0] - 1, opt[0] + 1, 41), np.linspace(opt[1] - 1, opt[1] + 1, 41)
    Z = loss_grid(q, u, v)
    brute = np.array([[brute_mse(X, y, np.array([a, b])) for a in u] for b in v])
    np.testing.assert_allclose(Z, brute, rtol=1e-10)
    iv, iu = np.unravel_index(np.argmin(brute), brute.shape)
    assert abs(u[iu] - opt[0]) <= u[1] - u[0] and abs(v[iv] - opt[1]) <= v[1] - v[0]


def test_slice_keeps_the_other_weights_at_their_optimum():
    X, y = data(d=2)
    q = Quadratic.from_data(X, y)
    opt = q.optimum()
    u, v = np.linspace(-2, 2, 7), np.linspace(-1, 1, 5)
    Z = loss_grid(q, u, v, axes=(0, 2))
    for r, b in enumerate(v):
        for c, a in enumerate(u):
            assert Z[r, c] == pytest.approx(brute_mse(X, y, np.array([a, opt[1], b])), rel=1e-10)


def test_hessian_and_gradient_match_autograd():
    X, y = data(d=2)
    q = Quadratic.from_data(X, y)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def mse(theta):
        return torch.mean((yt - Xt @ theta[:-1] - theta[-1]) ** 2)

    theta = torch.tensor([0.3, -0.2, 1.0], dtype=torch.float64)
    H = torch.autograd.functional.hessian(mse, theta).numpy()
    np.testing.assert_allclose(q.hessian(), H, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.hessian()), np.linalg.eigvalsh(H), rtol=1e-10)
    assert q.lr_max() == pytest.approx(2 / np.linalg.eigvalsh(H)[-1])
    g = torch.autograd.grad(mse(theta.requires_grad_()), theta)[0].numpy()
    np.testing.assert_allclose(q.grad(theta.detach().numpy()), g, rtol=1e-10)


def test_grid_axes_hold_the_path_and_the_optimum():
    u, v = grid_axes(np.array([[0.0, 0.0], [1.0, 3.0]]), np.array([2.0, 1.0]))
    assert u[0] < 0 < 2 < u[-1] and v[0] < 0 < 3 < v[-1]


def test_equation_numbers_equal_autograd_at_a_recorded_point():
    lesson = LESSONS["good"]
    ds = make_dataset(lesson.preset, n=lesson.n, noise=lesson.noise, seed=0)
    surf = surface(ds, standardize=False)
    cfg = lane_config(lesson, lesson.lanes[0], surf, epochs=5)
    result = train(ds, cfg)
    path = path_from_history(result.history.to_dict("list"), ds.features, lesson.start)
    theta = path[3]  # a point the trainer recorded
    eq = equation(surf.X, surf.y, theta, cfg.lr, row=4)
    t = torch.tensor(theta, requires_grad=True)
    Xt, yt = torch.tensor(surf.X), torch.tensor(surf.y)
    pred = Xt @ t[:-1] + t[-1]
    loss = torch.mean((yt - pred) ** 2)
    loss.backward()
    scale = max(1.0, float(t.grad.abs().max()))
    np.testing.assert_allclose(eq.grad, t.grad.numpy(), atol=1e-6 * scale)
    assert eq.loss == pytest.approx(loss.item(), abs=1e-6 * max(1.0, loss.item()))
    assert eq.yhat_row == pytest.approx(pred[4].item())
    assert eq.grad[0] == pytest.approx(-(2 / len(surf.y)) * np.sum((surf.y - pred.detach().numpy()) * surf.X[:, 0]))
    # the trainer's next recorded point is this very update (float32 in the trainer)
    np.testing.assert_allclose(eq.next_theta, path[4], rtol=1e-5, atol=1e-5)


def test_quadratic_loss_along_the_path_equals_the_trainers_loss():
    lesson = LESSONS["good"]
    ds = make_dataset(lesson.preset, n=lesson.n, noise=lesson.noise, seed=0)
    surf = surface(ds, standardize=False)
    result = train(ds, lane_config(lesson, lesson.lanes[0], surf, epochs=10))
    path = path_from_history(result.history.to_dict("list"), ds.features, lesson.start)
    # the trainer's epoch-e loss is measured before its step, at θ_{e-1}
    np.testing.assert_allclose(surf.quadratic.loss(path[:-1]), result.history["train_loss"], rtol=1e-5)


@pytest.mark.parametrize("factor", [0.02, 0.5, 0.9, 1.05, 1.3])
def test_race_labels_agree_with_the_runs(factor):
    lesson = LESSONS["lr_race"]
    ds = make_dataset(lesson.preset, n=lesson.n, noise=lesson.noise, seed=0)
    surf = surface(ds, standardize=False)
    lane = lesson.lanes[0]
    lr = factor * surf.quadratic.lr_max()
    result = train(ds, lane_config(lesson, lane, surf, lr=lr))
    path = path_from_history(result.history.to_dict("list"), ds.features, lesson.start)
    predicted, observed = labels(lesson, lane, surf, lr, path, result.status)
    expected = {0.02: "slow", 0.5: "converges", 0.9: "oscillates", 1.05: "diverges", 1.3: "diverges"}[factor]
    assert predicted == observed == expected


def test_predict_lane_thresholds():
    q = Quadratic.from_data(*data(d=1))
    start = q.optimum() + 1.0
    lam = q.eigen()[0]
    assert predict_lane(q, 2.0 / lam[-1] * 1.001, start, 50) == "diverges"
    assert predict_lane(q, 1.5 / lam[-1], start, 50) == "oscillates"
    assert predict_lane(q, 0.9 / lam[-1], start, 10_000) == "converges"
    assert predict_lane(q, 1e-6, start, 10) == "slow"
    assert observed_lane(q, np.array([start, start * 10]), diverged=False) == "diverges"


def test_settings_from_url_keeps_valid_values_and_drops_the_rest():
    from core.classroom.lessons import settings_from_url, settings_to_url

    good = {"lesson": "oscillates", "lr": "0.0123", "step": "7", "speed": "5", "d3": "1", "projector": "0"}
    s = settings_from_url(good)
    assert s == {"lesson": "oscillates", "lr": 0.0123, "step": 7, "speed": 5, "d3": True, "projector": False}
    assert settings_to_url(s) == good
    bad = {"lesson": "x", "lr": "nan", "step": "-1", "speed": "3", "d3": "yes", "focus": "1"}
    assert settings_from_url(bad) == {}  # focus 1 does not exist in the default one-lane lesson
    assert "lr" not in settings_from_url({"lesson": "lr_race", "lr": "0.1"})  # a race's rates are the lesson


def test_png_and_gif_export_when_kaleido_and_a_browser_are_here():
    pytest.importorskip("kaleido")
    import io
    import shutil

    from PIL import Image

    from core.classroom.figures import step_loss_figure
    from core.plotting import figures_png, gif_from_pngs

    if not (shutil.which("chromium") or shutil.which("google-chrome")):
        pytest.skip("no Chrome/Chromium for kaleido")
    pngs = figures_png([step_loss_figure({"a": [3, 2, 1]}, k) for k in range(2)], width=300, height=200)
    assert all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    gif = Image.open(io.BytesIO(gif_from_pngs(pngs)))
    assert gif.format == "GIF" and gif.n_frames == 2 and gif.size == (300, 200)


def test_equation_numbers_typeset_large_and_small_values_as_powers_of_ten():
    from core.classroom.lessons import tex

    assert tex(6.4294e5, 5) == r"6.4294\times 10^{5}"
    assert tex(-2.033e-5, 4) == r"-2.033\times 10^{-5}"
    assert tex(1.25) == "1.25"
