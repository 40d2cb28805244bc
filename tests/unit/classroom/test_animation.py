"""The in-browser Play figure (core.classroom.animation) and projector contrast (core.classroom.contrast), checked without a browser.

The paths are plain gradient descent on the lesson's exact quadratic (the page uses the trainer's record; the
figure cannot tell the difference), so every number a frame shows can be recomputed here independently.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.classroom import LESSONS, surface
from core.classroom.animation import MAX_FRAMES, PlayLane, fit_ends, frame_epochs, frame_ms, play_figure
from core.classroom.contrast import INK, LIGHT_SURFACE, MIN_LINE, high_contrast, scale_color
from core.classroom.landscape import grid_axes, loss_grid
from core.classroom.lessons import lesson_dataset, settings_from_url

ROOT = Path(__file__).resolve().parents[3]


def gd_path(q, start, lr: float, epochs: int) -> np.ndarray:
    """Plain full-batch gradient descent: θ₀ then θ after each step."""
    path = [np.asarray(start, dtype=float)]
    for _ in range(epochs):
        path.append(path[-1] - lr * q.grad(path[-1]))
    return np.array(path)


def build(key: str = "good", epochs: int | None = None, factor: float = 0.5, max_frames: int = MAX_FRAMES, speed: float = 15):
    lesson = LESSONS[key]
    ds = lesson_dataset(lesson)
    surf = surface(ds, lesson.lanes[0].standardize)
    q = surf.quadratic
    start = lesson.start or (0.0,) * q.dim
    with np.errstate(over="ignore", invalid="ignore"):
        path = gd_path(q, start, factor * q.lr_max(), epochs or lesson.epochs)
        loss = q.loss(path)
    X = ds.X.to_numpy(dtype=float)
    x_ends, fit = fit_ends(surf, path, X)
    opt = q.optimum()[:2]
    u, v = grid_axes(path[:, :2], opt, size=40)
    lane = PlayLane("lane", "#d62728", path[:, :2], loss, fit)
    fig = play_figure(u, v, loss_grid(q, u, v), opt, ("w", "b"), [lane], X[:, 0], ds.y.to_numpy(dtype=float), x_ends, ("x", "y"),
                      speed=speed, max_frames=max_frames)  # fmt: skip
    return fig, surf, path, X, ds


def moving(fig: dict) -> dict[str, dict]:
    """The moving traces of a one-lane figure at frame 0, by role."""
    idx = fig["frames"][0]["traces"]
    roles = ["path", "now", "fit", "loss_so_far", "loss_now"]
    return {r: fig["data"][i] for r, i in zip(roles, idx)}


def test_frame_epochs_keep_first_and_last_and_cap_the_count():
    assert frame_epochs(61).tolist() == list(range(61))
    f = frame_epochs(501, 200)
    assert len(f) <= 200 and f[0] == 0 and f[-1] == 500 and np.all(np.diff(f) > 0)
    assert frame_epochs(1).tolist() == [0] and len(frame_epochs(0)) == 0


def test_frame_duration_lands_on_the_asked_rate():
    # Plotly advances at the first 60 Hz tick after more than `duration` ms: ask 8 ms less than the interval
    assert frame_ms(10) == 92 and frame_ms(15) == 59 and frame_ms(20) == 42
    assert frame_ms(10, stride=2.5) == 242  # a decimated run: each frame advances 2.5 epochs on average


def test_every_frame_moves_the_three_views_together():
    fig, surf, path, X, ds = build()
    frames = fig["frames"]
    assert [f["name"] for f in frames] == [str(k) for k in range(len(path))]
    lo, hi = X[:, 0].min(), X[:, 0].max()
    for f in frames:
        k = int(f["name"])
        assert len(f["data"]) == len(f["traces"])
        p, now, fit, so_far, loss_now = f["data"]
        assert len(p["x"]) == k + 1 and p["x"][-1] == pytest.approx(path[k, 0], rel=1e-4)  # the path up to epoch k
        assert (now["x"][0], now["y"][0]) == pytest.approx((path[k, 0], path[k, 1]), rel=1e-4)  # the point on the surface
        coef, intercept = surf.scaler.to_original(path[k, :-1], float(path[k, -1]))  # the fitted line, independently
        assert fit["x"] == pytest.approx([lo, hi])
        assert fit["y"] == pytest.approx([coef[0] * lo + intercept, coef[0] * hi + intercept], rel=1e-4)
        assert loss_now["x"] == [k] and loss_now["y"][0] == pytest.approx(surf.quadratic.loss(path[k]), rel=1e-4)  # the loss marker
        assert so_far["x"] == list(range(k + 1))  # the loss curve grows with the path: nothing shows the future
    # the figure as first drawn is frame 0, and the moving traces keep their style
    m = moving(fig)
    assert m["path"]["x"] == frames[0]["data"][0]["x"] and m["path"]["line"]["color"] == "#d62728"


def test_play_controls_animate_in_the_browser_without_a_server():
    fig, *_ = build(speed=15)
    menu = fig["layout"]["updatemenus"][0]
    play = next(b for b in menu["buttons"] if "Play" in b["label"])
    assert play["method"] == "animate" and play["args"][0] is None
    assert play["args"][1]["frame"] == {"duration": frame_ms(15), "redraw": False} and play["args"][1]["fromcurrent"]
    assert any(b["args"] == [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}]
               for b in menu["buttons"])  # fmt: skip
    steps = fig["layout"]["sliders"][0]["steps"]
    assert [s["args"][0] for s in steps] == [[f["name"]] for f in fig["frames"]]
    # only scatter traces: with redraw False, Plotly removes any other trace type from a subplot at the first frame
    assert {t["type"] for t in fig["data"]} == {"scatter"}
    json.dumps(fig, allow_nan=False)  # plain JSON: no NaN, no numpy


def test_long_runs_are_decimated_and_the_payload_stays_small():
    fig, _, path, *_ = build(epochs=500, factor=0.05)
    names = [int(f["name"]) for f in fig["frames"]]
    assert len(names) <= MAX_FRAMES and names[0] == 0 and names[-1] == 500
    last = fig["frames"][-1]["data"]
    assert last[1]["x"][0] == pytest.approx(path[500, 0], rel=1e-4)  # the last epoch itself, not the nearest sample
    size = len(json.dumps(fig))
    assert size < 1_000_000, size
    short, *_ = build()
    assert len(json.dumps(short)) < 150_000  # the default lesson: one payload, sent once


def test_a_diverging_path_leaves_gaps_instead_of_dragging_the_axes():
    fig, _, path, *_ = build("diverges", factor=1.1)
    xr = fig["layout"]["xaxis"]["range"]
    last = fig["frames"][-1]["data"][0]
    assert None in last["x"]  # far-off epochs are gaps
    span = xr[1] - xr[0]
    assert all(x is None or xr[0] - 2 * span <= x <= xr[1] + 2 * span for x in last["x"])
    assert fig["frames"][-1]["data"][1]["x"] == [None]  # the current point is off the map


def test_the_level_sets_are_the_exact_loss_surface():
    fig, surf, *_ = build()
    q = surf.quadratic
    levels = [t for t in fig["data"] if isinstance(t.get("meta"), dict) and "loss" in t["meta"]]
    assert len(levels) >= 10
    opt = q.optimum()
    for t in levels:
        pts = np.column_stack([t["x"], t["y"]])
        assert q.loss(pts) == pytest.approx(np.full(len(pts), t["meta"]["loss"]), rel=1e-3), t["meta"]  # on the ellipse, L = level
        assert opt[:2] == pytest.approx(pts[:-1].mean(axis=0), abs=1e-3 * np.abs(pts).max())  # centred on the optimum (last = first)


def test_fit_ends_hold_other_features_at_their_mean():
    lesson = LESSONS["house"]
    ds = lesson_dataset(lesson)
    surf = surface(ds, standardize=True)
    theta = np.array([[0.3, -0.2, 0.1], [0.9, 0.1, 0.0]])
    X = ds.X.to_numpy(dtype=float)
    (lo, hi), fit = fit_ends(surf, theta, X)
    for k in range(2):
        coef, intercept = surf.scaler.to_original(theta[k, :-1], float(theta[k, -1]))
        rows = np.array([[lo, X[:, 1].mean()], [hi, X[:, 1].mean()]])
        assert fit[k] == pytest.approx(rows @ coef + intercept)


def test_high_contrast_is_dark_on_white_with_thick_lines_and_keeps_the_frames():
    fig, *_ = build()
    hc = high_contrast(fig)
    lay = hc["layout"]
    assert lay["paper_bgcolor"] == lay["plot_bgcolor"] == "#ffffff" and lay["font"]["color"] == INK and lay["font"]["size"] >= 18
    for ax in ("xaxis", "yaxis", "xaxis2", "yaxis3"):
        assert lay[ax]["tickfont"]["size"] >= 18 and lay[ax]["linecolor"] == INK
    assert len(hc["frames"]) == len(fig["frames"]) and hc["frames"][5]["data"][0]["x"] == fig["frames"][5]["data"][0]["x"]
    m = moving(hc)
    assert m["path"]["line"]["width"] >= MIN_LINE and m["path"]["line"]["color"] != "#d62728"  # a darker red
    assert m["now"]["marker"]["size"] > moving(fig)["now"]["marker"]["size"]
    levels = [t for t in hc["data"] if isinstance(t.get("meta"), dict) and "level" in t["meta"]]
    assert all(t["fillcolor"] == scale_color(LIGHT_SURFACE, t["meta"]["level"]) for t in levels)  # a light surface
    star = next(t for t in hc["data"] if t["name"].startswith("optimum"))
    assert star["marker"]["color"] != "white"  # a white star would vanish on the light surface
    assert lay["updatemenus"][0]["font"]["size"] >= 18 and lay["sliders"][0]["currentvalue"]["font"]["size"] >= 18
    assert "paper_bgcolor" not in fig["layout"]  # the input is not modified


def test_high_contrast_turns_white_annotations_black():
    fig = {"data": [{"type": "scatter", "x": [0], "y": [0], "line": {"width": 1, "color": "gray"}}],
           "layout": {"annotations": [{"text": "−∇L", "font": {"color": "white", "size": 14}},
                                      {"showarrow": True, "arrowcolor": "white", "arrowwidth": 2}]}}  # fmt: skip
    hc = high_contrast(fig)
    assert hc["layout"]["annotations"][0]["font"]["color"] == INK and hc["layout"]["annotations"][1]["arrowcolor"] == INK
    assert hc["data"][0]["line"] == {"width": MIN_LINE, "color": INK}


def test_scale_color_interpolates():
    assert scale_color([[0, "#000000"], [1, "#ffffff"]], 0.5) == "rgb(128,128,128)"
    assert scale_color([[0, "#000000"], [1, "#ffffff"]], 2) == "rgb(255,255,255)"


def test_the_view_is_part_of_a_shared_url():
    assert settings_from_url({"view": "play"})["view"] == "play"
    assert "view" not in settings_from_url({"view": "cinema"})


def test_the_play_modules_stay_light():
    code = "import sys, core.classroom.animation, core.classroom.contrast\n"
    code += "assert 'torch' not in sys.modules and 'streamlit' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_play_figure_speaks_the_readers_language_and_keeps_its_frames():
    """Buttons, slider prefix, panel titles, axis titles and trace names are words; frames and numbers are not."""
    from core.classroom.figures import landscape_figure, step_loss_figure
    from core.i18n import use

    english, *_ = build()
    use("zh")
    try:
        fig, *_ = build()
        surface = landscape_figure([0, 1], [0, 1], np.zeros((2, 2)), np.zeros((2, 2)), 0, [0, 0], ("w", "b"))
        loss = step_loss_figure({"a": [3, 2, 1]}, 1)
    finally:
        use("en")
    assert [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]] == ["▶ 播放", "❚❚ 暂停", "⟲ 从头开始"]
    assert fig["layout"]["sliders"][0]["currentvalue"]["prefix"] == "轮次 "
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["<b>损失曲面上的路径</b>", "<b>在数据上的拟合</b>", "<b>每轮的损失</b>"]
    assert fig["layout"]["xaxis3"]["title"]["text"] == "轮次" and fig["layout"]["yaxis3"]["title"]["text"] == "损失"
    assert {t.get("name") for t in fig["data"]} >= {"损失", "最优点（最小二乘）", "数据"}
    assert fig["frames"] == english["frames"] and fig["layout"]["sliders"][0]["steps"] == english["layout"]["sliders"][0]["steps"]
    assert [t.get("name") for t in surface["data"]] == [None, "路径", "最优点（最小二乘）", "第 0 轮"]
    assert surface["data"][0]["colorbar"]["title"]["text"] == "损失"
    assert loss["layout"]["xaxis"]["title"]["text"] == "轮次" and loss["layout"]["yaxis"]["title"]["text"] == "损失"
    assert [b["label"] for b in high_contrast(fig)["layout"]["updatemenus"][0]["buttons"]][0] == "▶ 播放"  # projector mode keeps them
