"""What the classroom's step view, race and Play show, against independent references: autograd, the trainer's own
record and model, plain MSE over the rows, and counting."""

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.classroom import LESSONS, surface
from core.classroom.lessons import LessonRun, equation, labels, lane_config, lane_lr, lesson_dataset, path_from_history
from core.classroom.play import fit_x_title, play, play_group
from core.classroom.step import (
    LessonView,
    at_epoch,
    axis_pair_label,
    axis_pairs,
    checkable,
    decimals,
    equation_lines,
    fit_predictions,
    fixed,
    gif_epochs,
    lane_surface_figure,
    lesson_view,
    outcome_text,
    preset_lr,
    race_losses,
    race_rows,
    relative_losses,
    round_lr,
    stability_text,
    surface_view,
    update_note,
)
from core.i18n import use
from core.training import train


def mse(X, y, theta):
    """The loss straight from its definition, in torch so autograd gives the gradient and the Hessian."""
    X, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    return torch.mean((y - X @ theta[:-1] - theta[-1]) ** 2)


def autograd_grad(surf, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    return torch.autograd.grad(mse(surf.X, surf.y, t), t)[0].numpy()


def lambda_max(surf) -> float:
    H = torch.autograd.functional.hessian(lambda t: mse(surf.X, surf.y, t), torch.zeros(surf.quadratic.dim, dtype=torch.float64))
    return float(np.linalg.eigvalsh(H.numpy())[-1])


def gd_path(surf, start, lr, epochs):
    """Plain full-batch gradient descent with autograd's gradient: θ₀ then θ after each step."""
    path = [np.asarray(start, dtype=float)]
    for _ in range(epochs):
        path.append(path[-1] - lr * autograd_grad(surf, path[-1]))
    return np.array(path)


def history(path, features):
    """The trainer's record of a path: a column per parameter, θ after each epoch (the start is not recorded)."""
    return {name: list(path[1:, j]) for j, name in enumerate([f"w:{f}" for f in features] + ["b"])}


def finished_view(key: str, epochs: int | None = None, **choices) -> LessonView:
    """A lesson whose lanes ran plain gradient descent at their own rates (what the worker records for SGD lanes)."""
    lesson = LESSONS[key]
    ds = lesson_dataset(lesson)
    surfaces = [surface(ds, lane.standardize) for lane in lesson.lanes]
    lrs = [lane_lr(lane, s) for lane, s in zip(lesson.lanes, surfaces)]
    start = lesson.start_point(surfaces[0].quadratic.dim)
    with np.errstate(over="ignore", invalid="ignore"):
        paths = [gd_path(s, start, lr, epochs or lesson.epochs) for s, lr in zip(surfaces, lrs)]
    run = LessonRun(("test",), lrs, [], [history(p, ds.features) for p in paths], ["completed"] * len(paths))
    return replace(lesson_view(lesson, ds, surfaces, run), **choices)


def result(line: str) -> float:
    """The number a LaTeX line ends on, before any "\\quad (…)" aside."""
    return untex(line.split(r"\quad")[0].split("=")[-1])


def untex(s: str) -> float:
    """A number as core.classroom.lessons.tex typeset it, possibly in brackets: "(-1.5\\times 10^{-3})"."""
    m = re.fullmatch(r"\(?(-?[\d.]+)(?:\\times 10\^\{(-?\d+)\})?\)?", s.strip())
    assert m, s
    return float(m[1]) * 10 ** int(m[2] or 0)


# -- the surface view --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axes", [(0, 1), (0, 2), (1, 2)])
def test_the_arrow_is_minus_autograds_gradient_and_the_grid_is_the_loss(axes):
    view = finished_view("ravine", epochs=12)
    surf, path = view.surfaces[2], view.paths[2]
    s = surface_view(surf, path, axes, 5, grid_size=21)
    np.testing.assert_allclose(s.arrow, -autograd_grad(surf, path[5])[list(axes)], rtol=1e-9, atol=1e-12)
    assert s.step == 5 and np.array_equal(s.path, path[:, list(axes)])
    opt = np.linalg.lstsq(np.column_stack([surf.X, np.ones(len(surf.y))]), surf.y, rcond=None)[0]
    np.testing.assert_allclose(s.optimum, opt[list(axes)], atol=1e-9)
    theta = opt.copy()  # a grid node: the two axes there, every other parameter at its optimum
    theta[axes[0]], theta[axes[1]] = s.u[3], s.v[7]
    assert s.Z[7, 3] == pytest.approx(float(mse(surf.X, surf.y, torch.tensor(theta))), rel=1e-9)
    assert s.u[0] <= path[:, axes[0]].min() and path[:, axes[0]].max() <= s.u[-1]


def test_a_diverged_epoch_has_no_arrow_and_the_step_is_clipped_to_the_run():
    view = finished_view("diverges", epochs=5)
    path = np.vstack([view.paths[0], [[np.inf, np.nan]]])
    s = surface_view(view.surfaces[0], path, (0, 1), 99)
    assert s.step == len(path) - 1 and s.arrow is None
    assert at_epoch(path, 99) == (len(path) - 1, None)
    k, theta = at_epoch(path, 2)
    assert k == 2 and np.array_equal(theta, path[2])


def test_the_surface_figure_draws_the_path_to_the_epoch_and_the_3d_flag():
    view = finished_view("good", epochs=10, three_d=True)
    fig = lane_surface_figure(view, 0, 4, 300)
    path = next(t for t in fig["data"] if t.get("name") == "path")
    assert len(path["x"]) == 5 and fig["data"][0]["type"] == "surface"
    assert lane_surface_figure(view, 0, 4, 300, flat=True)["data"][0]["type"] != "surface"  # a GIF frame is contours


# -- the fit and the equation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["good", "house"])
def test_fit_predictions_are_the_trained_models(key):
    lesson = LESSONS[key]
    ds = lesson_dataset(lesson)
    surf = surface(ds, lesson.lanes[0].standardize)
    result = train(ds, lane_config(lesson, lesson.lanes[0], surf, epochs=5))
    path = path_from_history(result.history.to_dict("list"), ds.features, lesson.start_point(surf.quadratic.dim))
    np.testing.assert_allclose(fit_predictions(surf, ds.X, path[-1]), result.predict(ds.X), rtol=1e-4, atol=1e-4 * float(ds.y.std()))


def shown_numbers(tex_text: str) -> list[float]:
    """Every number in a line of the panel as a student reads it: "(−1)", "2.5 × 10^{-5}" and "0.1493" alike."""
    text = re.sub(r"\\times 10\^\{(-?\d+)\}", r"e\1", tex_text)
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def places(s: str) -> int:
    return len(s.rsplit("=", 1)[1].strip().partition(".")[2])


@pytest.mark.parametrize(("key", "lane_i", "k"), [("good", 0, 3), ("house", 0, 40), ("oscillates", 0, 7), ("scaling", 0, 2)])
def test_equation_lines_are_autograds_gradient_and_arithmetic_a_student_can_redo(key, lane_i, k):
    lesson = LESSONS[key]
    ds = lesson_dataset(lesson)
    lane = lesson.lanes[lane_i]
    surf = surface(ds, lane.standardize)
    cfg = lane_config(lesson, lane, surf, epochs=k + 2)
    path = path_from_history(train(ds, cfg).history.to_dict("list"), ds.features, lesson.start_point(surf.quadratic.dim))
    lines = equation_lines(surf, path[k], cfg.lr, plain=True)
    d = surf.quadratic.dim
    assert len(lines) == 2 + 2 * d  # ŷ₁, L, a gradient per parameter, an update per parameter
    loss = mse(surf.X, surf.y, torch.tensor(path[k]))
    assert result(lines[1]) == pytest.approx(loss.item(), rel=1e-5)
    reference = autograd_grad(surf, path[k])  # shown to 6 significant digits of the largest: 1e-16 noise reads 0.000000
    np.testing.assert_allclose([result(line) for line in lines[2 : 2 + d]], reference, rtol=1e-5, atol=1e-5 * np.abs(reference).max())
    # ŷ₁ = w·x + b: the shown operands, multiplied and added by hand, give the shown ŷ₁ to its last shown digit
    yhat_part = lines[0].split(r"\quad")[0]
    numbers = shown_numbers(yhat_part.split("=", 2)[2])
    *ops, shown_yhat = numbers
    by_hand = sum(w * x for w, x in zip(ops[0:-1:2], ops[1:-1:2])) + ops[-1]  # shown as w₁·x₁ + w₂·x₂ + … + b
    assert f"{by_hand:.{places(yhat_part)}f}" == f"{shown_yhat:.{places(yhat_part)}f}"
    assert shown_yhat == pytest.approx(path[k][:-1] @ surf.X[0] + path[k][-1], abs=10 ** -places(yhat_part))
    for j, line in enumerate(lines[2 + d :]):  # θⱼ − η·∂L/∂θⱼ, redone by hand from the shown numbers
        before, lr, grad, after = shown_numbers(line.split("=", 1)[1])
        assert lr == cfg.lr  # η as trained, every digit
        n = places(line)
        assert f"{before - lr * grad:.{n}f}" == f"{after:.{n}f}"
        assert after == pytest.approx(path[k + 1][j], abs=10**-n + 1e-6 * np.abs(path[k + 1]).max())  # the trainer, in float32
    note = update_note(lane, surf, path, cfg.lr, k)
    assert "The trainer recorded" in note
    assert update_note(lane, surf, path, cfg.lr, len(path) - 1) == ""  # the last epoch has no recorded next one


def test_the_same_numbers_is_said_only_when_they_read_the_same():
    lesson, lane = LESSONS["good"], LESSONS["good"].lanes[0]
    surf = surface(lesson_dataset(lesson), lane.standardize)
    theta = np.array([-1.0, -2.0])
    exact = equation(surf.X, surf.y, theta, 0.1).next_theta
    assert update_note(lane, surf, np.array([theta, exact]), 0.1, 0).endswith("the same numbers.")
    off = np.array([theta, exact + [0, 3e-5]])  # a float32 trainer a few units off in the 5th decimal
    note = update_note(lane, surf, off, 0.1, 0)
    assert "the same numbers" not in note and "32-bit" in note


def test_numbers_far_below_the_largest_weight_read_as_zero_in_both_precisions():
    places_ = decimals(np.array([1.2, -1.78e-16]))
    assert places_ == 5
    assert fixed(-1.78e-16, places_) == fixed(1.107e-09, places_) == "0.00000"
    assert fixed(-0.5, 2) == "-0.50" and fixed(-0.001, 2) == "0.00"


@pytest.mark.parametrize("digits_needed", [1e-3, 0.14926, 123456.789])
def test_checkable_widens_operands_until_the_arithmetic_holds(digits_needed):
    a, lr, g = 0.123456789 * digits_needed, 0.1493, 7.654321987
    after = fixed(a - lr * g, 6)
    shown_a, shown_g = checkable(after, [a, g], lambda v: v[0] - lr * v[1])
    assert fixed(float(shown_a) - lr * float(shown_g), 6) == after


def test_other_optimizers_get_the_gradient_but_no_update_line():
    view = finished_view("ravine", epochs=3)
    lines = equation_lines(view.surfaces[1], view.paths[1][2], view.lrs[1], plain=False)
    assert len(lines) == 2 + 3 and not any(r"\leftarrow" in x for x in lines)
    assert "momentum reshapes the step" in update_note(LESSONS["ravine"].lanes[1], view.surfaces[1], view.paths[1], view.lrs[1], 2)
    assert "mini-batch" in update_note(LESSONS["minibatch"].lanes[2], view.surfaces[1], view.paths[1], view.lrs[1], 2)


def test_negative_numbers_are_bracketed_in_the_sum():
    view = finished_view("good", epochs=1)
    assert "+ (-2)" in equation_lines(view.surfaces[0], np.array([-1.0, -2.0]), 0.1, plain=True)[0]


# -- the controls --------------------------------------------------------------------------------------------------


def test_preset_rates_and_the_caption_use_the_hessians_largest_eigenvalue():
    surf = surface(lesson_dataset(LESSONS["good"]), standardize=False)
    lam = lambda_max(surf)
    assert preset_lr(surf, 0.9) == pytest.approx(0.9 * 2 / lam, rel=5e-4)
    assert preset_lr(surf, 0.9) == round_lr(preset_lr(surf, 0.9)) and len(f"{preset_lr(surf, 0.9):.10g}") <= 6
    assert preset_lr(surf, 0.5) * lam < 1 < preset_lr(surf, 0.51) * lam  # rounded toward zero: half the limit stays below η·λ = 1
    text, terms = stability_text(surf, standardize=False)
    assert f"η < {2 / lam:.4g}" in text and text.endswith("(raw units).") and "λ" not in text  # plain words first
    assert f"λ_max = {lam:.4g}" in terms and "condition number" in terms  # the textbook's terms in the tooltip


@pytest.mark.parametrize("d", [2, 3, 4, 6])
def test_axis_pairs_are_every_pair_once(d):
    names = [f"w:x{j}" for j in range(d - 1)] + ["b"]
    pairs = axis_pairs(names)
    assert len(pairs) == d * (d - 1) // 2 == len(set(pairs.values()))
    assert all(i < j and label == f"{names[i]} × {names[j]}" for label, (i, j) in pairs.items())


@pytest.mark.parametrize(("n_steps", "frames"), [(60, 16), (5, 16), (0, 16), (500, 16)])
def test_gif_epochs_sample_the_run_from_first_to_last(n_steps, frames):
    epochs = gif_epochs(n_steps, frames)
    assert epochs[0] == 0 and epochs[-1] == n_steps and epochs == sorted(set(epochs))
    assert len(epochs) == min(frames, n_steps + 1)


# -- the race ------------------------------------------------------------------------------------------------------


def test_relative_loss_is_one_at_the_start_and_falls_to_zero_at_the_optimum():
    view = finished_view("good")
    surf, path = view.surfaces[0], view.paths[0]
    rel = relative_losses(surf.quadratic, path)
    opt = np.linalg.lstsq(np.column_stack([surf.X, np.ones(len(surf.y))]), surf.y, rcond=None)[0]
    best = float(mse(surf.X, surf.y, torch.tensor(opt)))
    brute = np.array([float(mse(surf.X, surf.y, torch.tensor(t))) for t in path])
    np.testing.assert_allclose(rel, (brute - best) / (brute[0] - best), rtol=1e-6, atol=1e-9)
    assert rel[0] == pytest.approx(1.0) and rel[-1] < 1e-6


def test_race_rows_scale_each_rate_by_its_own_lambda_max_and_check_the_prediction():
    view = finished_view("lr_race")
    rows = race_rows(view)
    lam = lambda_max(view.surfaces[0])
    assert [r["η × curvature"] for r in rows] == pytest.approx([r["η"] * lam for r in rows], rel=1e-9)
    assert [r["η × curvature"] for r in rows] == pytest.approx([2 * lane.lr_factor for lane in view.lesson.lanes], rel=5e-4)
    for row, lane, s, p, lr in zip(rows, view.lesson.lanes, view.surfaces, view.paths, view.lrs):
        predicted, observed = labels(view.lesson, lane, s, lr, p, "completed")
        assert (row["predicted"], row["observed"]) == (predicted, observed)
        assert row["agrees"] == ("yes" if predicted == observed else "no")
    assert [r["observed"] for r in rows] == ["slow", "converges", "oscillates", "diverges"]
    assert set(race_losses(view)) == {lane.name for lane in view.lesson.lanes}


def test_race_rows_mark_optimizers_without_a_prediction():
    view = finished_view("ravine", epochs=5)
    rows = race_rows(view)
    assert [r["agrees"] for r in rows] == ["yes" if rows[0]["predicted"] == rows[0]["observed"] else "no"] + ["—"] * 4
    A = np.column_stack([view.surfaces[0].X, np.ones(len(view.surfaces[0].y))])
    lam = np.linalg.eigvalsh(2 * A.T @ A / len(A))  # the Hessian of the MSE, from the rows
    assert rows[0]["bowl stretch"] == pytest.approx(lam[-1] / lam[0], rel=1e-9)


# -- the view and Play ---------------------------------------------------------------------------------------------


def test_lesson_view_starts_every_path_at_the_lessons_start_and_names_units():
    view = finished_view("scaling", epochs=4)
    assert view.n_steps == 4 and all(np.array_equal(p[0], [0.0, 0.0, 0.0]) for p in view.paths)
    assert view.param_names == ["w:area_m2", "w:rooms", "b"]
    assert view.axis_titles(1) == ("weight of area_m2 (standardized)", "weight of rooms (standardized)")
    assert view.axis_titles(0)[1] == "weight of rooms" and view.loss_unit(0) == "price²"


def test_play_groups_lanes_by_their_units_with_the_focus_on_top():
    assert play_group(LESSONS["scaling"], 0) == [0] and play_group(LESSONS["scaling"], 1) == [1]
    assert play_group(LESSONS["ravine"], 2) == [0, 1, 3, 4, 2]
    view = finished_view("scaling", epochs=4, focus=1)
    assert play(view, speed=15).hidden == 1


def test_play_draws_every_race_lane_with_its_prediction_and_its_own_path():
    view = finished_view("lr_race")
    shown = play(view, speed=15)
    fig = shown.figure
    assert not shown.sampled and shown.hidden == 0 and len(fig["frames"]) == view.n_steps + 1
    names = [t["name"] for t in fig["data"] if t.get("mode") == "lines+markers"]
    lanes = view.lesson.lanes
    assert names == [f"{lanes[i].name} · predicted: {view.labels[i][0]}" for i in (1, 2, 3, 0)]  # the focus, lane 0, on top
    frame = fig["frames"][5]["data"]
    assert frame[-5]["x"][-1] == pytest.approx(view.paths[0][5, 0], rel=1e-4)  # lane 0's path, 5 epochs in
    long = finished_view("good", epochs=450)
    assert play(long, speed=15).sampled


def test_fit_panel_title_names_the_features_held_at_their_mean():
    assert fit_x_title(lesson_dataset(LESSONS["house"])) == "area_m2 (rooms at its mean)"
    assert fit_x_title(lesson_dataset(LESSONS["good"])) == "x"


def test_the_step_modules_stay_light():
    """The page imports them on every rerun: no torch, no streamlit."""
    code = "import sys, core.classroom.step, core.classroom.play\nassert 'torch' not in sys.modules and 'streamlit' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], check=True)


# -- in Chinese ----------------------------------------------------------------------------------------------------


def numbers_in(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)


def test_the_limit_reads_in_chinese_with_the_same_numbers(chinese):
    surf = surface(lesson_dataset(LESSONS["good"]), standardize=False)
    text, terms = stability_text(surf, standardize=False)
    lam = lambda_max(surf)
    assert text.startswith(f"**上限：η < {2 / lam:.4g}。**") and text.endswith("（原始单位）。")
    assert f"λ_max = {lam:.4g}" in terms and "条件数" in terms
    use("en")
    english, english_terms = stability_text(surf, standardize=False)
    assert numbers_in(text) == numbers_in(english) and numbers_in(terms) == numbers_in(english_terms)  # only the words change


def test_the_update_note_and_the_axes_read_in_chinese(chinese):
    lesson, lane = LESSONS["good"], LESSONS["good"].lanes[0]
    surf = surface(lesson_dataset(lesson), lane.standardize)
    theta = np.array([-1.0, -2.0])
    exact = equation(surf.X, surf.y, theta, 0.1).next_theta
    note = update_note(lane, surf, np.array([theta, exact]), 0.1, 0)
    assert note.startswith("训练器在这一轮之后记录的是") and note.endswith("数字完全相同。")
    assert "32 位浮点数" in update_note(lane, surf, np.array([theta, exact + [0, 3e-5]]), 0.1, 0)
    view = finished_view("ravine", epochs=3)
    assert "动量" in update_note(LESSONS["ravine"].lanes[1], view.surfaces[1], view.paths[1], view.lrs[1], 2)
    assert view.axis_titles(0) == ("area_m2 的权重（标准化）", "rooms 的权重（标准化）")
    assert axis_pair_label("w:rooms × b") == "rooms 的权重 × 截距 b"


def test_a_race_reads_in_chinese_while_its_keys_stay_english(chinese):
    view = finished_view("lr_race")
    assert list(race_losses(view)) == ["0.02 × 上限", "0.5 × 上限", "0.9 × 上限", "1.05 × 上限"]  # the loss chart's legend
    rows = race_rows(view)
    assert [r["observed"] for r in rows] == ["slow", "converges", "oscillates", "diverges"]  # code and tests compare these
    assert [outcome_text(r["observed"]) for r in rows] == ["偏慢", "收敛", "振荡", "发散"]
    assert outcome_text("—") == "—" and outcome_text("") == ""  # "" would be gettext's header
    names = [t["name"] for t in play(view, speed=15).figure["data"] if t.get("mode") == "lines+markers"]
    assert names[-1] == "0.02 × 上限 · 预测：偏慢"
    assert fit_x_title(lesson_dataset(LESSONS["house"])) == "area_m2（rooms 取均值）"
