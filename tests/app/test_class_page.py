"""Class mode through AppTest: the teacher's entry point and controls, a student's join and submission, and every bad
input with its message. Each AppTest is a browser of its own; the class registry is the server's, shared by all."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.classroom.klass import ClassRegistry
from core.classroom.lessons import LESSONS
from core.i18n.catalog import translations
from core.runs.classes import list_classes, load_class
from tests.app.test_chinese import KEPT
from tests.app.words import english, texts
from ui import state
from ui.cache import run_store
from ui.classes import class_registry, setup_for
from ui.identity import user_owner

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
TEACHER = "teacher@school.example"


def browser(query: dict[str, str] | None = None, user: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if user:
        at.user = {"is_logged_in": True, "email": user}
    at.run()
    at.query_params.update(query or {})
    at.switch_page("../pages/class_mode.py")
    at.run()
    assert not at.exception, at.exception
    return at


def registry() -> ClassRegistry:
    return class_registry()


def new_class(lesson: str = "good") -> str:
    return registry().start(user_owner(TEACHER), lesson).code


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def join(at: AppTest, nickname: str, code: str | None = None, label: str = "Join") -> AppTest:
    if code is not None:
        at.text_input(key="class_join_code").set_value(code)
    at.text_input(key="class_nickname").set_value(nickname)
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


def submit(
    at: AppTest, lr: float | None = None, prediction: str | None = "converges", epochs: int = 20, label: str = "Submit my lane"
) -> AppTest:
    if lr is not None:
        at.number_input(key="class_lr").set_value(lr)
    if prediction is not None:
        at.radio(key="class_prediction").set_value(prediction)
    at.number_input(key="class_epochs").set_value(epochs)
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


def test_start_a_class_from_a_lesson_gives_code_qr_and_link():
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": TEACHER}
    at.run()
    at.switch_page("../pages/descent.py")
    at.run()
    button(at, "Start a class").click().run()
    assert not at.exception, at.exception
    code = at.session_state[state.CLASS_CODE]
    assert registry().is_teacher(code, user_owner(TEACHER))
    text = " ".join(m.value for m in at.markdown)
    assert f"**{code}**" in text and f"/class?code={code}" in text
    assert at.get("image"), "the QR code"
    assert {"Close submissions", "Reveal outcomes", "New round"} <= labels(at)


def test_a_student_with_the_link_never_gets_the_controls():
    code = new_class()
    at = browser({"code": code})
    assert at.text_input(key="class_join_code").value == code
    join(at, "Ada")
    assert not {"Close submissions", "Reveal outcomes", "New round", "End the class"} & labels(at)
    assert "Submit my lane" in labels(at)
    assert not registry().is_teacher(code, at.session_state["owner"])


@pytest.mark.parametrize(
    ("nickname", "message"),
    [("", "Type a nickname"), ("x" * 31, "at most 30 characters"), ("ADA", "already called ADA")],
)
def test_bad_nicknames_get_a_clear_message(nickname, message):
    code = new_class()
    join(browser({"code": code}), "Ada")
    at = join(browser({"code": code}), nickname)
    assert any(message in e for e in errors(at)), errors(at)
    assert "Submit my lane" not in labels(at)


def test_wrong_and_expired_codes_get_a_clear_message():
    at = join(browser(), "Ada", code="ZZZZZZ")
    assert any("No class has the code ZZZZZZ" in e for e in errors(at)), errors(at)
    code = new_class()
    registry().end(code, user_owner(TEACHER))
    at = browser({"code": code})
    assert any(f"The class {code} has ended" in e for e in errors(at)), errors(at)


def test_learning_rate_outside_the_lessons_range_and_a_missing_prediction_are_refused():
    code = new_class()
    lo, hi = setup_for("good").lr_range
    at = join(browser({"code": code}), "Ada")
    submit(at, lr=lo, prediction=None)
    assert any("Record your prediction" in e for e in errors(at)), errors(at)
    submit(at, lr=hi * 2)
    assert any(f"between {lo:.4g} and {hi:.4g}" in e for e in errors(at)), errors(at)
    submit(at, lr=-1.0)
    assert any("between" in e for e in errors(at))
    assert registry().get(code).lane_of(at.session_state["owner"]) is None


def test_submission_after_close_is_refused():
    code = new_class()
    at = join(browser({"code": code}), "Ada")
    registry().set_open(code, user_owner(TEACHER), False)
    submit(at)  # the form was drawn while open: the press still finds the class closed
    assert any("Submissions are closed" in e for e in errors(at)), errors(at)
    assert "Submit my lane" not in labels(at)


def wait_until(at: AppTest, done, what: str) -> AppTest:
    deadline = time.monotonic() + 90
    while not done(at):  # AppTest cannot fire run_every: rerun as the browser's timer would
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


def test_a_round_from_submit_to_reveal_with_the_prediction_locked():
    code = new_class()
    teacher = browser({"code": code}, user=TEACHER)
    assert "Reveal outcomes" in labels(teacher)
    student = join(browser({"code": code}), "=1+1")
    submit(student, lr=setup_for("good").lr_range[1] * 0.9, prediction="converges", epochs=15)
    assert any("You predicted it **converges**" in s.value for s in student.success)
    assert "Submit my lane" not in labels(student)  # locked
    wait_until(teacher, lambda at: "1 done" in " ".join(m.value for m in at.markdown), "the lane never finished")
    button(teacher, "Reveal outcomes").click().run()
    table = teacher.dataframe[0].value
    assert list(table["nickname"]) == ["=1+1"] and list(table["outcome"]) == ["diverges"]
    assert list(table["epochs to converge"]) == ["—"]  # a diverged lane never converged: a dash, never "None"
    wait_until(student, lambda at: any("Your lane diverges" in m.value for m in at.markdown), "the student never saw the outcome")
    tally = student.dataframe[0].value.set_index("category")
    assert tally.loc["converges", "students predicting"] == 1 and tally.loc["diverges", "lanes observed"] == 1
    saved = load_class(run_store(), code)  # kept in the run store as its lanes end, with the run's id
    assert saved.owner == user_owner(TEACHER) and [(r["nickname"], r["outcome"]) for r in saved.rows] == [("=1+1", "diverges")]
    assert run_store().get(saved.rows[0]["run_id"])["owner"] == user_owner(TEACHER)  # the lane is the teacher's run


def test_in_the_optimizer_lesson_students_pick_an_optimizer_and_train_at_the_lessons_rate():
    code = new_class("ravine")
    teacher = browser({"code": code}, user=TEACHER)
    student = join(browser({"code": code}), "Grace")
    assert not any(w.key == "class_lr" for w in student.number_input)  # the rate is the lesson's, not a student's
    student.selectbox(key="class_optimizer").set_value("momentum")
    submit(student, prediction="converges", epochs=30)
    wait_until(teacher, lambda at: "1 done" in " ".join(m.value for m in at.markdown), "the lane never finished")
    button(teacher, "Reveal outcomes").click().run()
    table = teacher.dataframe[0].value
    assert list(table["optimizer"]) == ["momentum"] and list(table["learning rate"]) == [setup_for("ravine").default_lr]
    saved = load_class(run_store(), code)
    assert run_store().get(saved.rows[0]["run_id"])["config"]["optimizer"] == "momentum"  # the lane trained with it


def test_a_teacher_finds_an_ended_class_and_its_table_on_the_class_page():
    code = new_class()
    teacher = browser({"code": code}, user=TEACHER)
    student = join(browser({"code": code}), "@Lin")
    submit(student, lr=0.1, prediction="converges", epochs=15)
    wait_until(teacher, lambda at: "1 done" in " ".join(m.value for m in at.markdown), "the lane never finished")
    registry().end(code, user_owner(TEACHER))  # ended (or idle): no longer on this server, kept in the store
    later = browser(user=TEACHER)
    (saved,) = [b for b in later.get("download_button") if f"Class {code}" in b.proto.label]
    assert "1 lane(s)" in saved.proto.label
    stranger = browser()
    assert not [b for b in stranger.get("download_button") if f"Class {code}" in b.proto.label]  # only its teacher's


def chinese_words_left(at: AppTest, *codes: str) -> list[str]:
    """The English on a class page in Chinese. Class codes are data (six random letters may spell nothing), and the
    lessons' titles are the lessons' own text (core/classroom/lessons.py, their catalogue): kept only while untranslated."""
    untranslated = [lesson.title for lesson in LESSONS.values() if translations("zh").gettext(lesson.title) == lesson.title]
    shown = [t for t in texts(at) if not t.startswith("<style>")]  # the projector view's CSS is no one's reading
    return english(shown, [*KEPT, *codes, *untranslated])


def test_a_class_in_chinese_from_join_to_reveal_for_teacher_and_student():
    at = join(browser({"lang": "zh"}), "小明", code="ZZZZZZ", label="加入")  # a wrong code: the refusal in Chinese
    assert any("没有加入码为 ZZZZZZ 的课堂" in e for e in errors(at)), errors(at)
    assert chinese_words_left(at, "ZZZZZZ") == []

    code = new_class()
    teacher = browser({"code": code, "lang": "zh"}, user=TEACHER)
    assert {"关闭提交", "揭晓结果", "新回合", "结束课堂"} <= labels(teacher)
    assert f"code={code}&lang=zh" in " ".join(m.value for m in teacher.markdown)  # the room opens the link in Chinese
    assert chinese_words_left(teacher, code) == []

    student = browser({"code": code, "lang": "zh"})
    assert chinese_words_left(student, code) == []  # the join form
    join(student, "小明", label="加入")
    submit(student, prediction=None, label="提交我的赛道")  # no prediction: refused, in Chinese
    assert any("请先写下你的预测" in e for e in errors(student)), errors(student)
    assert chinese_words_left(student, code) == []
    # AppTest picks a radio option by its label (the page's format_func shows 发散 for "diverges")
    submit(student, lr=setup_for("good").lr_range[1] * 0.9, prediction="发散", epochs=15, label="提交我的赛道")
    assert any("你预测它大约 15 轮内会**发散**" in s.value for s in student.success)
    assert chinese_words_left(student, code) == []

    wait_until(teacher, lambda at: "1 条完成" in " ".join(m.value for m in at.markdown), "the lane never finished")
    button(teacher, "揭晓结果").click().run()
    table = teacher.dataframe[0].value
    assert list(table["昵称"]) == ["小明"] and list(table["结果"]) == ["发散"] and list(table["预测"]) == ["发散"]
    assert chinese_words_left(teacher, code) == []
    teacher.toggle(key=state.CLASS_PROJECTOR).set_value(True).run()  # the projector view
    assert not teacher.exception and chinese_words_left(teacher, code) == []

    wait_until(student, lambda at: any("你的赛道：发散" in m.value for m in at.markdown), "the student never saw the outcome")
    assert list(student.dataframe[0].value.columns) == ["类别", "预测人数", "实际赛道数", "预测正确人数"]
    assert chinese_words_left(student, code) == []

    registry().end(code, user_owner(TEACHER))  # the teacher's landing: live classes to open, the ended one as CSV
    later = browser({"lang": "zh"}, user=TEACHER)
    (saved,) = [b for b in later.get("download_button") if f"课堂 {code}" in b.proto.label]
    assert "1 条赛道" in saved.proto.label and "月" in saved.proto.label  # the date too: 12月05日, not Dec 05
    codes = [k.code for k in registry().teaching(user_owner(TEACHER))] + [c.code for c in list_classes(run_store(), user_owner(TEACHER))]
    assert chinese_words_left(later, *codes) == []
