"""Class mode's core: codes, the roster, control by the teacher only, submissions, outcomes, tally, CSV and the store."""

import csv
import io
import pickle

import numpy as np
import pytest

from core.classroom.class_figures import DrawnLane, class_landscape, class_losses, drawn_lanes, lr_axis, projector, tally_figure
from core.classroom.class_results import (
    choice_config,
    class_setup,
    lane_outcome,
    refresh,
    saved_class,
    shown_rows,
    table_csv,
    table_rows,
    tally,
)
from core.classroom.klass import ALPHABET, CODE_LEN, NICK_MAX, Choice, ClassError, ClassRegistry, class_lessons, normalize_code
from core.classroom.lessons import LESSONS, lane_config
from core.i18n import use
from core.runs import RunStore
from core.runs.classes import list_classes, load_class
from core.runs.job import Snapshot

TEACHER, STUDENT, OTHER = "browser:teacher", "browser:student", "browser:other"


class Clock:
    def __init__(self):
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def good(lr: float = 0.05, prediction: str = "converges") -> Choice:
    return Choice(lr=lr, optimizer="sgd", prediction=prediction, epochs_guess=20)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def reg(clock):
    return ClassRegistry(idle_s=600, clock=clock)


def launch(choice: Choice, nick: str) -> str:
    return f"job-{nick}"


def test_codes_are_short_unambiguous_and_typed_loosely(reg):
    codes = {reg.start(TEACHER, "good").code for _ in range(50)}
    assert len(codes) == 50
    assert all(len(c) == CODE_LEN and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OI") & set(ALPHABET)
    code = next(iter(codes))
    assert reg.get(f" {code[:3].lower()}-{code[3:].lower()} ").code == code


def test_only_the_teacher_controls_the_class(reg):
    code = reg.start(TEACHER, "good").code
    reg.join(code, STUDENT, "Ada")
    for step in (lambda who: reg.set_open(code, who, False), lambda who: reg.reveal(code, who), lambda who: reg.new_round(code, who),
                 lambda who: reg.hide(code, who, "Ada"), lambda who: reg.end(code, who)):  # fmt: skip
        with pytest.raises(ClassError, match="Only the teacher"):
            step(STUDENT)
        with pytest.raises(ClassError, match="Only the teacher"):
            step("")
    assert reg.is_teacher(code, TEACHER) and not reg.is_teacher(code, STUDENT)
    reg.set_open(code, TEACHER, False)
    assert not reg.get(code).open


@pytest.mark.parametrize(
    ("nickname", "message"),
    [("", "Type a nickname"), ("   ", "Type a nickname"), ("x" * (NICK_MAX + 1), "at most 30 characters"), ("ada", "already called ada")],
)
def test_bad_nicknames_are_refused_with_a_reason(reg, nickname, message):
    code = reg.start(TEACHER, "good").code
    reg.join(code, STUDENT, "Ada")
    with pytest.raises(ClassError, match=message):
        reg.join(code, OTHER, nickname)


def test_wrong_and_expired_codes_say_which(reg, clock):
    code = reg.start(TEACHER, "good").code
    with pytest.raises(ClassError, match="No class has the code ZZZZZZ"):
        reg.join("zzzzzz", STUDENT, "Ada")
    clock.t += 601
    assert [k.code for k in reg.sweep()] == [code]
    with pytest.raises(ClassError, match="has ended"):
        reg.join(code, STUDENT, "Ada")


def test_an_idle_class_ends_and_is_handed_on_to_be_kept(clock):
    kept = []
    reg = ClassRegistry(idle_s=60, clock=clock, on_end=kept.append)
    code = reg.start(TEACHER, "good").code
    clock.t += 61
    reg.get(reg.start(TEACHER, "good").code)  # any visit sweeps
    assert [k.code for k in kept] == [code] and kept[0].ended_at == clock.t and not kept[0].open
    assert [k.code for k in reg.teaching(TEACHER)] != [code]


def test_idle_time_counts_from_the_last_activity(reg, clock):
    code = reg.start(TEACHER, "good").code
    clock.t += 500
    reg.touch(code)
    clock.t += 500
    assert reg.sweep() == [] and reg.get(code).code == code


def test_a_submission_is_checked_then_locked(reg):
    setup = class_setup(LESSONS["good"])
    code = reg.start(TEACHER, "good").code
    with pytest.raises(ClassError, match="Join the class"):
        reg.submit(code, STUDENT, good(), setup.lr_range, launch)
    reg.join(code, STUDENT, "Ada")
    lo, hi = setup.lr_range
    for bad, message in ((good(hi * 1.01), "must be between"), (good(float("nan")), "must be between"), (good(0.0), "must be between"),
                         (good(prediction=""), "Record your prediction"),
                         (Choice(0.05, "sgd", "converges", 0), "about how many epochs")):  # fmt: skip
        with pytest.raises(ClassError, match=message):
            reg.submit(code, STUDENT, bad, setup.lr_range, launch)
    sub = reg.submit(code, STUDENT, good(lo), setup.lr_range, launch)
    assert sub.job_id == "job-Ada" and sub.round == 1
    with pytest.raises(ClassError, match="already submitted"):
        reg.submit(code, STUDENT, good(prediction="diverges"), setup.lr_range, launch)
    assert reg.get(code).lane_of(STUDENT).choice.prediction == "converges"
    reg.new_round(code, TEACHER)
    assert reg.get(code).lane_of(STUDENT) is None
    reg.submit(code, STUDENT, good(prediction="diverges"), setup.lr_range, launch)
    assert [s.round for s in reg.get(code).submissions] == [1, 2]


def test_closed_class_refuses_submissions(reg):
    code = reg.start(TEACHER, "good").code
    reg.join(code, STUDENT, "Ada")
    reg.set_open(code, TEACHER, False)
    with pytest.raises(ClassError, match="Submissions are closed"):
        reg.submit(code, STUDENT, good(), class_setup(LESSONS["good"]).lr_range, launch)


def test_optimizer_lesson_takes_an_optimizer_at_the_lessons_rate():
    setup = class_setup(LESSONS["ravine"])
    assert setup.optimizers == ["sgd", "momentum", "nesterov", "rmsprop", "adam"]
    cfg = choice_config(setup, Choice(lr=0.0, optimizer="adam", prediction="converges", epochs_guess=10))
    lane = LESSONS["ravine"].lanes[4]
    assert cfg == lane_config(LESSONS["ravine"], lane, setup.surf)
    assert "data" not in class_lessons()


def gd_history(setup, lr: float, epochs: int) -> dict[str, list]:
    """Plain gradient descent on the exact quadratic: what the trainer records for a full-batch SGD lane."""
    q, theta, rows = setup.surf.quadratic, setup.start.copy(), []
    for _ in range(epochs):
        theta = theta - lr * q.grad(theta)
        rows.append(theta.copy())
    a = np.array(rows)
    return {"epoch": list(range(1, epochs + 1)), "w:x": a[:, 0].tolist(), "b": a[:, 1].tolist()}


@pytest.mark.parametrize(("factor", "outcome"), [(0.5, "converges"), (0.9, "oscillates"), (1.2, "diverges")])
def test_outcomes_come_from_the_lanes_own_weights(factor, outcome):
    setup = class_setup(LESSONS["good"])
    got, converged_at = lane_outcome(setup, gd_history(setup, factor * setup.limit, 60), "completed")
    assert got == outcome
    assert (converged_at is None) == (outcome == "diverges")  # an oscillating lane still gets there, zig-zagging
    if converged_at:
        path = gd_history(setup, factor * setup.limit, converged_at)
        last = np.array([path["w:x"][-1], path["b"][-1]])
        opt = setup.surf.quadratic.optimum()
        assert np.linalg.norm(last - opt) <= 0.01 * np.linalg.norm(setup.start - opt)


def finished_class(reg, setup):
    code = reg.start(TEACHER, "good").code
    names = {"Ada": (0.4, "converges"), '=HYPERLINK("x")': (0.9, "converges"), "<b>Bo</b>": (1.2, "diverges")}
    for i, (nick, (factor, pred)) in enumerate(names.items()):
        reg.join(code, f"s{i}", nick)
        reg.submit(code, f"s{i}", good(round(factor * setup.limit, 4), pred), setup.lr_range, lambda c, n: f"job{n}")
    klass = reg.get(code)
    snaps = {s.job_id: Snapshot(s.job_id, "completed", gd_history(setup, s.choice.lr, 60), 60, 60, 60, None, None, "", None, None)
             for s in klass.submissions}  # fmt: skip
    assert refresh(reg, klass, setup, snaps.get) == 3
    assert refresh(reg, reg.get(code), setup, snaps.get) == 0  # ended lanes are not read again
    return reg.get(code)


def test_tally_counts_predictions_and_outcomes_only_once_revealed(reg):
    setup = class_setup(LESSONS["good"])
    klass = finished_class(reg, setup)
    hidden = {r["category"]: r for r in tally(klass)}
    assert hidden["converges"]["predicted"] == 2 and hidden["converges"]["observed"] is None
    reg.reveal(klass.code, TEACHER)
    shown = {r["category"]: r for r in tally(reg.get(klass.code))}
    assert (shown["converges"]["observed"], shown["oscillates"]["observed"], shown["diverges"]["observed"]) == (1, 1, 1)
    assert shown["converges"]["predicted rightly"] == 1 and shown["diverges"]["predicted rightly"] == 1
    assert table_rows(klass, setup, revealed=False)[0]["outcome"] == "(not revealed)"


def test_csv_keeps_names_as_text_and_guards_formulas(reg):
    setup = class_setup(LESSONS["good"])
    klass = finished_class(reg, setup)
    reg.hide(klass.code, TEACHER, "<B>BO</B>")  # hidden by name, whatever its case
    rows = table_rows(reg.get(klass.code), setup)
    parsed = list(csv.DictReader(io.StringIO(table_csv(rows))))
    assert [r["nickname"] for r in parsed] == ["Ada", '\'=HYPERLINK("x")', "(hidden)"]
    assert [r["outcome"] for r in parsed] == ["converges", "oscillates", "diverges"]
    assert parsed[0]["epochs to converge"].isdigit() and parsed[2]["epochs to converge"] == ""
    assert list(parsed[0]) == ["round", "nickname", "learning rate", "prediction", "epochs guessed", "outcome", "epochs to converge"]


def test_the_class_is_saved_in_the_run_store_and_read_back(reg, tmp_path):
    setup = class_setup(LESSONS["good"])
    klass = finished_class(reg, setup)
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    saved = saved_class(reg.end(klass.code, TEACHER), setup)
    from core.runs.classes import save_class

    save_class(store, saved)
    save_class(store, saved)  # saving again replaces
    back = load_class(store, klass.code)
    assert back == saved and back.ended_at is not None
    assert [r["run_id"] for r in back.rows] == ["jobAda", 'job=HYPERLINK("x")', "job<b>Bo</b>"]
    assert [c.code for c in list_classes(store, TEACHER)] == [klass.code] and list_classes(store, STUDENT) == []
    store.close()


def test_projector_figures_draw_thirty_lanes_thin_with_the_optimum_starred():
    setup = class_setup(LESSONS["good"])
    lanes = [DrawnLane(f"s{i}", np.column_stack([gd_history(setup, f * setup.limit, 60)[k] for k in ("w:x", "b")]), f * setup.limit,
                       "converges", highlight=i == 3) for i, f in enumerate(np.linspace(0.05, 1.3, 30))]  # fmt: skip
    land = projector(class_landscape(setup, lanes, revealed=True))
    paths = [t for t in land["data"] if t.get("meta", {}).get("lane")]
    assert len(paths) == 30 and paths[-1]["name"] == "s3" and paths[-1]["line"]["width"] > paths[0]["line"]["width"]
    assert max(t["line"]["width"] for t in paths[:-1]) < 3  # thinner than high_contrast's floor
    assert any(t.get("marker", {}).get("symbol") == "star" for t in land["data"])
    assert len(class_losses(setup, lanes, True)["data"]) == 30
    lr = projector(lr_axis(setup, lanes, True))
    assert lr["data"][0]["x"] == [x.lr for x in lanes]
    limit = [s for s in lr["layout"]["shapes"] if s.get("x0") == setup.limit and s["type"] == "line"]  # the limit on the η axis
    assert limit and limit[0]["line"]["color"] == "#c00000" and "2/λ_max" in lr["layout"]["title"]["text"]
    assert len(tally_figure([{"category": "converges", "predicted": 2, "observed": 1, "predicted rightly": 1}])["data"]) == 2


def test_normalize_code():
    assert normalize_code(" ab c-12 3 ") == "ABC123"


def test_a_refusal_reads_in_the_readers_language_with_what_was_typed(reg, chinese):
    code = reg.start(TEACHER, "good").code
    reg.join(code, STUDENT, "Ada")
    with pytest.raises(ClassError) as taken:
        reg.join(code, OTHER, "ADA")
    assert str(taken.value) == "这个课堂里已经有人叫 ADA，请换一个昵称。"
    with pytest.raises(ClassError) as wrong:
        reg.join("zzzzzz", OTHER, "Bo")
    assert "ZZZZZZ" in str(wrong.value) and "没有加入码" in str(wrong.value)
    use("en")
    assert str(taken.value) == "Someone in this class is already called ADA. Pick another nickname."
    back = pickle.loads(pickle.dumps(wrong.value))  # the parameters ride with it
    assert isinstance(back, ClassError) and isinstance(back, ValueError)
    assert str(back) == "No class has the code ZZZZZZ. Check it against the one your teacher shows (no 0, O, 1 or I in codes)."
    use("zh")
    assert str(back) == str(wrong.value)


def test_a_learning_rate_refusal_keeps_its_format_in_chinese(reg, chinese):
    setup = class_setup(LESSONS["good"])
    code = reg.start(TEACHER, "good").code
    reg.join(code, STUDENT, "Ada")
    lo, hi = setup.lr_range
    with pytest.raises(ClassError) as e:
        reg.submit(code, STUDENT, good(hi * 2), setup.lr_range, launch)
    assert f"{lo:.4g} 到 {hi:.4g} 之间" in str(e.value)


def test_the_table_stays_english_data_and_reads_in_chinese_where_shown(reg, chinese):
    setup = class_setup(LESSONS["good"])
    klass = finished_class(reg, setup)
    reg.hide(klass.code, TEACHER, "Ada")
    rows = table_rows(reg.get(klass.code), setup)
    assert rows[0]["nickname"] == "(hidden)" and rows[0]["prediction"] == "converges"  # the CSV's and the store's words
    assert list(csv.DictReader(io.StringIO(table_csv(rows))))[0]["outcome"] == "converges"
    shown = shown_rows(rows)
    assert list(shown[0]) == ["回合", "昵称", "学习率", "预测", "估计轮数", "结果", "收敛所用轮数"]
    assert [r["结果"] for r in shown] == ["收敛", "振荡", "发散"] and shown[0]["昵称"] == "（已隐藏）"
    assert shown[1]["昵称"] == '=HYPERLINK("x")'  # a nickname is never translated
    assert shown_rows(tally(klass))[0]["类别"] == "收敛"
    use("en")
    assert shown_rows(rows) == rows  # English: the rows as they are


def test_projector_figures_read_in_chinese(reg, chinese):
    setup = class_setup(LESSONS["good"])
    klass = finished_class(reg, setup)
    lanes = drawn_lanes(klass, setup)
    land = class_landscape(setup, lanes, revealed=True)
    assert land["layout"]["title"]["text"] == "损失曲面上的 3 条赛道（★ = 最优权重）"
    assert land["layout"]["yaxis"]["title"]["text"] == "截距 b"
    assert "上限 2/λ_max" in lr_axis(setup, lanes, True)["layout"]["title"]["text"]
    reg.reveal(klass.code, TEACHER)
    bars = tally_figure(tally(reg.get(klass.code)))
    assert bars["layout"]["title"]["text"] == "预测与实际结果" and "收敛" in bars["data"][0]["y"]
