"""The admin view through AppTest: off without a password, refuses a wrong one, lists and stops a running job."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import state

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
SECRET = "correct horse battery staple"


def open_admin(monkeypatch, password: str | None) -> AppTest:
    monkeypatch.delenv("DESCENT_ADMIN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    if password:
        at.secrets["admin"] = {"password": password}
    at.run()
    at.switch_page("../pages/admin.py")
    return at.run()


def log_in(at: AppTest, typed: str) -> AppTest:
    at.text_input(key="admin_password").input(typed)
    at.button[0].click()  # the form's submit button
    return at.run()


def page_text(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "info", "error", "caption") for e in getattr(at, kind))


def test_without_a_configured_password_there_is_no_admin_page(monkeypatch):
    """A student never meets a dead navigation item: the page exists only where an operator set a password."""
    monkeypatch.delenv("DESCENT_ADMIN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    with pytest.raises(ValueError, match="registered"):
        at.switch_page("../pages/admin.py")


def test_a_wrong_password_is_refused_and_never_shown(monkeypatch):
    at = log_in(open_admin(monkeypatch, SECRET), "guess")
    assert not at.exception
    assert at.error[0].value == "Wrong password."
    assert not at.metric  # still locked
    assert SECRET not in page_text(at) and "guess" not in page_text(at)


def test_the_environment_variable_also_enables_it(monkeypatch):
    monkeypatch.setenv("DESCENT_ADMIN_PASSWORD", SECRET)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("../pages/admin.py")
    at = log_in(at.run(), SECRET)
    assert not at.exception
    assert at.metric[0].label == "Workers ready"


def test_the_right_password_lists_a_running_job_and_stops_it(monkeypatch):
    at = open_admin(monkeypatch, SECRET)
    at.switch_page("../pages/train.py").run()
    at.number_input(key="train_epochs").set_value(1_000_000).run()
    deadline = time.monotonic() + 90
    while not at.button(key="train_start").proto.disabled:  # workers warming up: retry until the run is on
        at.button(key="train_start").click().run()
        assert not at.exception and time.monotonic() < deadline
        time.sleep(0.3)
    job_id = at.session_state[state.LIVE].job_id  # a LiveRun (ui/live_run.py)
    from ui.cache import job_manager  # the same process-wide manager the pages use

    while job_manager().get(job_id).status != "running":  # queued until a worker has warmed up
        assert time.monotonic() < deadline
        time.sleep(0.2)

    at.switch_page("../pages/admin.py").run()
    at = log_in(at, SECRET)
    assert not at.exception
    assert SECRET not in page_text(at)
    stop = at.button(key=f"admin_stop_{job_id}")
    assert any(m.value == "running" for m in at.markdown)
    assert any(m.value.startswith("guest ") for m in at.markdown)  # the owner: a guest, by session (and address)
    stop.click().run()
    assert not at.exception
    job = job_manager().wait(job_id, timeout=30)
    assert job.status == "stopped"
    at.run()
    assert not any(b.key == f"admin_stop_{job_id}" for b in at.button)  # gone from the list


def test_without_auth_secrets_the_app_is_open_and_says_so_with_its_limits(monkeypatch):
    at = open_admin(monkeypatch, SECRET)
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("Open app: no login configured") for c in captions)
    assert any("rows ·" in c and "MB upload" in c and "epochs" in c and "per person" in c for c in captions)
    assert not any(b.label == "Log in" for b in at.button)


def test_a_failed_run_shows_with_its_message(monkeypatch):
    from core.data import make_dataset
    from core.training import TrainConfig
    from ui.cache import job_manager

    at = open_admin(monkeypatch, SECRET)  # the page creates the process-wide manager
    bad = TrainConfig(epochs=5, init="given", init_params=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0))  # house_prices needs 3
    job = job_manager().wait(job_manager().submit(make_dataset("house_prices", n=50), bad, owner="f" * 32).id, timeout=90)
    assert job.status == "failed" and job.error
    at = log_in(at, SECRET)
    table = next(d.value for d in at.dataframe if "message" in d.value.columns)
    assert str(job.error) in table["message"].tolist()  # a Message, shown in the reader's language
    assert "session ffffff" in table["owner"].tolist()


def test_with_auth_secrets_a_visitor_sees_only_the_log_in_button(monkeypatch):
    monkeypatch.delenv("DESCENT_ADMIN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not any(c.value.startswith("Open app") for c in at.sidebar.caption)


def test_with_auth_secrets_a_logged_in_user_gets_the_app_and_a_log_out_button(monkeypatch):
    monkeypatch.delenv("DESCENT_ADMIN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.user = {"is_logged_in": True, "email": "ada@example.org"}
    at.run()
    assert not at.exception
    assert any(b.key == "logout" for b in at.sidebar.button)


def test_wrong_passwords_make_the_next_try_wait_and_the_log_never_holds_them(monkeypatch, caplog):
    at = open_admin(monkeypatch, SECRET)
    with caplog.at_level("WARNING", logger="descent.admin"):
        for guess in ("guess-1", "guess-2", "guess-3"):
            at = log_in(at, guess)
    assert "Wait 1 s before the next try" in at.error[0].value  # three free tries, then 1 s, 2 s, 4 s …
    at = log_in(at, SECRET)  # at once: refused unchecked, even the right one
    assert "Too many wrong passwords" in at.error[0].value and not at.metric
    time.sleep(1.1)
    at = log_in(at, SECRET)
    assert at.metric[0].label == "Workers ready"
    refusals = [r.getMessage() for r in caplog.records if r.name == "descent.admin"]
    assert len(refusals) == 3 and all("guess" not in m and SECRET not in m for m in refusals)


def test_the_gate_backs_off_per_browser_and_for_the_whole_server():
    from ui.admin_gate import FREE_TRIES, MAX_WAIT_S, SERVER_FREE, SERVER_WAIT_S, AdminGate

    gate, now = AdminGate(), 1000.0
    for _ in range(FREE_TRIES):
        assert gate.wait_s("a", now) == 0
        gate.failed("a", "guest a", now)
    assert gate.wait_s("a", now) == 1 and gate.wait_s("b", now) == 0  # only the guesser waits
    for _ in range(20):
        gate.failed("a", "guest a", now)
    assert gate.wait_s("a", now) == MAX_WAIT_S
    gate.succeeded("a")
    for i in range(SERVER_FREE):  # many browsers, one guess each: the server's count makes everyone wait
        gate.failed(f"bot-{i}", "bot", now)
    assert gate.wait_s("fresh", now) == SERVER_WAIT_S
    assert gate.wait_s("fresh", now + 3600) == 0  # an hour later the window has passed


def test_in_chinese_the_login_the_counts_and_a_failure_have_no_english(monkeypatch):
    import contextvars

    from core.data import make_dataset
    from core.i18n import use
    from core.training import TrainConfig
    from tests.app.test_chinese import KEPT
    from tests.app.words import english, texts
    from ui.cache import job_manager

    monkeypatch.delenv("DESCENT_ADMIN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["admin"] = {"password": SECRET}
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("../pages/admin.py").run()
    assert at.title[0].value == "管理" and english(texts(at), KEPT) == []
    at = log_in(at, "guess")
    assert at.error[0].value == "密码错误。" and english(texts(at), KEPT) == []

    bad = TrainConfig(epochs=5, init="given", init_params=(1.0, 2.0))  # house_prices needs 3: the run fails
    job = job_manager().wait(job_manager().submit(make_dataset("house_prices", n=50), bad, owner="e" * 32).id, timeout=90)
    assert job.status == "failed"
    at = log_in(at, SECRET)
    assert not at.exception
    assert [m.label for m in at.metric] == ["就绪的训练进程", "运行中", "排队中", "失败（保存在内存中）"]
    failures = next(d.value for d in at.dataframe if "消息" in d.value.columns)
    in_chinese = contextvars.copy_context().run(lambda: (use("zh"), str(job.error))[1])  # the error as a Chinese reader gets it
    assert in_chinese in failures["消息"].tolist() and list(failures.columns) == ["结束时间", "发起人", "轮数", "消息"]
    assert english(texts(at), KEPT) == []  # the table's cells are the runs' data and the server's settings
