"""Every page through streamlit.testing's AppTest, with the real job manager and worker processes."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.plotting import plain_arrays
from tests.app.test_chinese import KEPT, open_in_chinese
from tests.app.words import _figure_texts, english, texts
from ui import train_form

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
PAGES = ["../pages/environment.py", "../pages/data.py", "../pages/train.py"]


def open_page(page: str, more_settings: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page)
    if more_settings:  # the Train page's "More settings" expander, whose widgets are drawn only when open
        at.session_state[train_form.MORE] = True
    return at.run()


def live_figure(at: AppTest, key: str) -> dict:
    """A live chart's figure (ui/live_chart.py), as the browser receives it."""
    element = next(e for e in at.get("bidi_component") if e.proto.id.endswith(key))
    return plain_arrays(json.loads(element.proto.json)["figure"])


def coefficient_table(at: AppTest):
    return next(d.value for d in at.dataframe if "parameter" in d.value.columns)


def rerun_until(at: AppTest, done, timeout: float = 90.0) -> AppTest:
    """AppTest cannot fire run_every; rerun by hand, as the browser's timer would."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, "timed out waiting for the page"
        assert not at.exception, at.exception
        time.sleep(0.3)
        at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(page):
    at = open_page(page)
    assert not at.exception
    assert at.title[0].value == Path(page).stem.capitalize()


def test_environment_page_gives_a_verdict():
    at = rerun_until(open_page("../pages/environment.py"), lambda at: len(at.metric) >= 4)
    assert at.metric[0].label == "torch" and at.metric[0].value
    texts = " ".join(e.value for e in at.info) + " ".join(e.value for e in at.warning)
    assert "GPU" in texts or "MPS" in texts


def test_data_page_changes_the_dataset_for_every_page():
    at = open_page("../pages/data.py")
    at.number_input(key="data_n").set_value(300).run()
    assert not at.exception
    assert len(json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]) == 300
    at.switch_page("../pages/train.py").run()
    assert "300 rows" in at.caption[0].value


def test_train_streams_epochs_then_shows_coefficients_beside_least_squares():
    at = open_page("../pages/train.py")
    at.number_input(key="train_lr").set_value(0.1)
    at.number_input(key="train_epochs").set_value(2000)
    at.button(key="train_start").click().run()
    assert not at.exception
    at = rerun_until(at, lambda at: at.success)
    assert "Completed 2,000 epochs" in at.success[0].value
    assert live_figure(at, "loss_chart")["data"][0]["x"][-1] == 2000  # the newest epoch is drawn
    table = coefficient_table(at)
    assert list(table["parameter"]) == ["area_m2", "rooms", "intercept"]
    assert (abs(table["difference"]) <= 1e-3 * abs(table["least squares (exact)"])).all()  # converged to the optimum
    metrics = at.dataframe[0].value
    assert list(metrics.index) == ["training set", "test set"] and (metrics["R²"] > 0.9).all()
    for key in ("loss_chart", "fit_chart", "coef_chart"):
        assert live_figure(at, key)["layout"]["uirevision"]  # zoom survives each frame's update
    assert any(c.value.startswith("Learning rate: 0.1 at every epoch") for c in at.caption)  # a constant rate: a line of text
    assert len(live_figure(at, "pred_actual")["data"][0]["x"]) == 800  # every training row (and the test rows)
    assert live_figure(at, "residuals")["data"]
    assert {b.proto.label for b in at.get("download_button")} >= {"History (.csv)", "Standalone PyTorch script (.py)"}


def test_bad_settings_show_a_message_and_start_nothing():
    at = open_page("../pages/train.py")
    at.number_input(key="train_epochs").set_value(0)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert "epochs must be a whole number from 1" in at.error[0].value
    assert live_figure(at, "loss_chart")["data"][0]["x"] == []  # the empty chart, nothing started


def test_a_diverging_run_says_why():
    at = open_page("../pages/train.py")
    at.number_input(key="train_lr").set_value(50.0)
    at.number_input(key="train_epochs").set_value(500)
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.error)
    assert "Diverged" in at.error[0].value and "stable only below 2/λ_max" in at.error[0].value


def test_pause_resume_and_stop_from_the_page():
    at = open_page("../pages/train.py")
    at.number_input(key="train_epochs").set_value(1_000_000)
    at.button(key="train_start").click().run()
    at = rerun_until(
        at,
        lambda at: (
            "epoch" in (at.get("progress")[0].proto.text if at.get("progress") else "")
            and not at.get("progress")[0].proto.text.startswith("epoch 0 ")
        ),
    )
    at.button(key="train_pause").click().run()
    assert at.button(key="train_pause").label == "Resume"
    at = rerun_until(at, lambda at: "paused" in at.get("progress")[0].proto.text)
    at.button(key="train_pause").click().run()
    assert at.button(key="train_pause").label == "Pause"
    at.button(key="train_stop").click().run()
    at = rerun_until(at, lambda at: at.warning)
    assert "Stopped by request" in at.warning[0].value


def test_seed_example_restores_the_seeds_settings():
    at = open_page("../pages/train.py")
    at.number_input(key="train_lr").set_value(0.5)
    at.selectbox(key="train_optimizer").set_value("adam")
    at.run()
    at.button(key="train_seed_example").click().run()
    assert at.number_input(key="train_lr").value == 0.01 and at.selectbox(key="train_optimizer").value == "sgd"
    assert at.number_input(key="train_epochs").value == 100


def test_momentum_is_offered_only_with_an_optimizer_that_uses_it_and_keeps_its_value():
    at = open_page("../pages/train.py", more_settings=True)
    assert at.selectbox(key="train_optimizer").value == "sgd"
    assert "train_momentum" not in {w.key for w in at.number_input}  # plain SGD: no momentum beside it
    assert any("only for the momentum and nesterov" in c.value for c in at.caption)
    at.selectbox(key="train_optimizer").set_value("nesterov").run()
    at.number_input(key="train_momentum").set_value(0.5).run()
    at.selectbox(key="train_optimizer").set_value("adam").run()
    assert "train_momentum" not in {w.key for w in at.number_input}
    at.selectbox(key="train_optimizer").set_value("momentum").run()
    assert at.number_input(key="train_momentum").value == 0.5  # kept while hidden


def test_a_bad_setting_is_shown_inline_and_train_is_disabled():
    at = open_page("../pages/train.py", more_settings=True)
    at.text_input(key="train_hidden").set_value("16, lots").run()
    assert "Hidden layers must be numbers" in at.error[0].value
    assert at.button(key="train_start").disabled


def test_a_setting_under_the_closed_expander_keeps_its_value_for_the_run():
    at = open_page("../pages/train.py", more_settings=True)
    at.number_input(key="train_batch_size").set_value(32).run()
    at.session_state[train_form.MORE] = False  # closed: its widgets are no longer drawn, run after run
    at.run()
    at.run()
    assert "train_batch_size" not in {w.key for w in at.number_input}
    at.number_input(key="train_epochs").set_value(20)
    at.button(key="train_start").click().run()
    assert at.session_state["live"].config.batch_size == 32


def test_an_mlp_run_reports_metrics_and_predicts_without_coefficients():
    at = open_page("../pages/train.py", more_settings=True)
    at.selectbox(key="train_model").set_value("mlp")
    at.selectbox(key="train_optimizer").set_value("adam")
    at.number_input(key="train_epochs").set_value(300)
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.success)
    assert not any("parameter" in d.value.columns for d in at.dataframe)
    assert at.dataframe[0].value.loc["test set", "R²"] > 0.8
    assert {b.proto.label for b in at.get("download_button")} >= {"Model (.pt, weights_only)", "Model (.safetensors)"}
    area, rooms = at.number_input[-2:]
    area.set_value(100.0)
    rooms.set_value(3.0)
    at.button[-1].click().run()  # the form's Predict
    price = float(at.metric[0].value.replace(",", ""))
    assert 300_000 < price < 500_000  # the data's truth at (100 m², 3 rooms) is 50k + 300k + 60k = 410k


def test_a_refreshed_browser_re_attaches_to_its_run():
    at = open_page("../pages/train.py")
    at.number_input(key="train_epochs").set_value(500)
    at.button(key="train_start").click().run()
    run_id = at.query_params["run"][0] if isinstance(at.query_params["run"], list) else at.query_params["run"]
    fresh = AppTest.from_file(APP, default_timeout=60)
    fresh.query_params["run"] = run_id
    fresh.run()
    fresh.switch_page("../pages/train.py").run()
    fresh = rerun_until(fresh, lambda at: at.success)
    assert "Completed 500 epochs" in fresh.success[0].value


ALICE = {"is_logged_in": True, "email": "alice@example.com"}


def session(user: dict | None = None, run_id: str | None = None, page: str = "../pages/train.py") -> AppTest:
    """A new browser session (its own random owner id, or a logged-in user), opened at a page and maybe a run's address."""
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.user = user
    if run_id is not None:
        at.query_params["run"] = run_id
    at.run()
    return at.switch_page(page).run()


def test_a_shared_link_is_read_only_and_its_owner_keeps_control_in_another_session():
    owner = session(user=ALICE)
    owner.number_input(key="train_epochs").set_value(1_000_000)
    owner.button(key="train_start").click().run()
    run_id = owner.query_params["run"]
    run_id = run_id[0] if isinstance(run_id, list) else run_id
    assert set(owner.query_params) == {"run"}  # no control in the address people copy

    viewer = session(run_id=run_id)  # someone else with the link
    assert "watching a shared run: read-only" in viewer.info[0].value
    assert viewer.button(key="train_stop").disabled and viewer.button(key="train_pause").disabled
    viewer.switch_page("../pages/runs.py").run()  # listed for them as shared, to view: never theirs to delete
    table = viewer.dataframe[0].value
    assert list(table["id"]) == [run_id] and list(table["whose"]) == ["shared"]

    again = session(user=ALICE, run_id=run_id)  # the owner, logged in from another browser
    assert not again.button(key="train_stop").disabled
    assert again.number_input(key="train_epochs").value == 1_000_000  # the run's settings, not the defaults
    again.button(key="train_stop").click().run()
    again = rerun_until(again, lambda at: at.warning)
    assert "Stopped by request" in again.warning[0].value


def test_a_stranger_sees_none_of_the_runs_of_others_on_the_runs_page():
    owner = session(user=ALICE)
    owner.number_input(key="train_epochs").set_value(50)
    owner.button(key="train_start").click().run()
    rerun_until(owner, lambda at: at.success)
    stranger = session(page="../pages/runs.py")
    ids = list(stranger.dataframe[0].value["id"]) if stranger.dataframe else []
    assert owner.session_state["live"].job_id not in ids
    mine = session(user=ALICE, page="../pages/runs.py")  # the owner, in a new session, finds it as theirs
    table = mine.dataframe[0].value.set_index("id")
    assert table.loc[owner.session_state["live"].job_id, "whose"] == "mine"


def test_a_run_address_from_before_a_restart_shows_what_was_saved_or_says_it_is_gone():
    from core.runs import RunStore

    store = RunStore()  # the test process's DESCENT_DB, as the pages use
    store.create("before-restart", "browser:someone", {"epochs": 40, "loss": "mse"}, {"preset": "house_prices", "target": "price"},
                 name="sgd · lr 0.1 · 40 ep · house_prices")  # fmt: skip
    store.append("before-restart", {"epoch": list(range(1, 41)), "train_loss": [1.0 / e for e in range(1, 41)], "test_loss": [None] * 40})
    store.finish("before-restart", "completed", {})
    at = session(run_id="before-restart")
    assert not at.exception
    assert "no longer holds it" in at.info[0].value and "40 of 40" in at.info[0].value
    assert live_figure(at, "loss_chart")["data"][0]["x"][-1] == 40
    gone = session(run_id="no-such-run")
    assert "no saved run has this id" in gone.warning[0].value


def test_a_queued_run_shows_its_place_and_no_chart_controls_until_it_starts():
    from core.data import make_dataset
    from core.training import TrainConfig
    from ui.cache import job_manager  # the same process-wide manager the pages use

    at = open_page("../pages/train.py")
    manager = job_manager()
    deadline = time.monotonic() + 90
    while manager.workers_ready() < len(manager.worker_pids()):
        assert time.monotonic() < deadline, "workers did not warm up"
        time.sleep(0.2)
    ds = make_dataset("house_prices", n=200, noise=0.1, seed=0)
    others = [manager.submit(ds, TrainConfig(epochs=1_000_000), owner=f"other-{i}") for i in range(len(manager.worker_pids()))]
    try:
        at.number_input(key="train_epochs").set_value(50)
        at.button(key="train_start").click().run()
        assert at.session_state["live"].status == "queued"
        assert any(i.value.startswith("Queued: position 1") for i in at.info)
        assert not at.toggle and not at.main.get("bidi_component")  # nothing to chart yet
    finally:
        for job in others:
            manager.stop(job.id)
    at = rerun_until(at, lambda at: at.success)  # a worker is free again: it runs, is charted and completes
    assert {t.label for t in at.toggle} == {"Log scale", "Freeze view"}


def test_a_pause_from_another_tab_of_the_owner_turns_this_tabs_button_to_resume():
    first = session(user=ALICE)
    first.number_input(key="train_epochs").set_value(1_000_000)
    first.button(key="train_start").click().run()
    first = rerun_until(first, lambda at: at.session_state["live"].status == "running" and not at.button(key="train_pause").disabled)
    run_id = first.session_state["live"].job_id
    second = session(user=ALICE, run_id=run_id)  # the same person's other tab
    second.button(key="train_pause").click().run()
    first = rerun_until(first, lambda at: at.button(key="train_pause").proto.label == "Resume")
    first.button(key="train_stop").click().run()


def test_the_seed_example_stops_short_of_the_optimum_and_one_click_gets_there():
    at = open_page("../pages/train.py")  # the seed's settings: SGD, lr 0.01, 100 epochs
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.success)
    assert any("Not at the optimum yet" in i.value for i in at.info)
    assert not any("a coefficient is still" in i.value for i in at.info)  # one measure of distance, not two
    offer = at.button(key="train_next")
    assert offer.label == "Train again with learning rate 0.2, 200 epochs"
    offer.click().run()
    at = rerun_until(at, lambda at: at.success and "200 epochs" in at.success[0].value)
    assert not any("Not at the optimum yet" in i.value for i in at.info)


def test_a_diverged_run_offers_the_fix_first_and_its_numbers_only_on_request():
    at = open_page("../pages/train.py")
    at.number_input(key="train_lr").set_value(50.0)
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.error)
    assert at.button(key="train_next").label.startswith("Train again with learning rate 0.")
    assert [e.label for e in at.expander if e.label.startswith("Inspect")] == ["Inspect the diverged run anyway"]
    at.button(key="train_next").click().run()
    at = rerun_until(at, lambda at: at.success)
    assert "Completed" in at.success[0].value


def test_the_home_page_opens_first_and_each_start_leads_somewhere_real():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == "Descent Lab" and not at.exception  # what `streamlit run` opens
    at.button(key="home_train").click().run()  # the seed's example, started on the Train page
    assert at.title[0].value == "Train" and at.session_state["live"] is not None
    at = rerun_until(at, lambda at: at.success)
    assert "Completed 100 epochs" in at.success[0].value and at.button(key="train_next")

    lesson = AppTest.from_file(APP, default_timeout=60).run()
    lesson.button(key="home_lesson").click().run()
    assert lesson.title[0].value == "Gradient descent" and lesson.selectbox(key="descent_lesson").value == "good"
    gpu = AppTest.from_file(APP, default_timeout=60).run()
    gpu.button(key="home_gpu").click().run()
    assert gpu.title[0].value == "Environment"


def test_a_watched_run_the_server_let_go_shows_what_the_store_kept_not_a_restart_warning():
    from ui.cache import job_manager

    at = open_page("../pages/train.py")
    at.number_input(key="train_epochs").set_value(300)
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.success)  # ended, and its result drawn
    manager, run_id = job_manager(), at.session_state["live"].job_id
    manager.wait(run_id, timeout=30)
    with manager._lock:  # what _forget_finished does to an old run once the memory budget is spent
        del manager._jobs[run_id]
    at.run()  # the page's next frame finds the run gone from the server
    assert not at.exception and not any("restarted" in w.value for w in at.warning)
    assert "no longer holds it" in at.info[0].value and "300 of 300" in at.info[0].value  # the stored copy, read-only


def no_english_in_the_charts(at: AppTest, *keys: str) -> list[str]:
    """The live charts' words (titles, axes, trace names): words.texts cannot read a component's figure, so here."""
    return english([t for key in keys for t in _figure_texts(live_figure(at, key))], KEPT)


def test_the_train_page_in_chinese_settings_a_refused_one_a_finished_run_and_its_saved_copy(chinese):
    at = open_in_chinese("train")
    at.session_state[train_form.MORE] = True  # every setting on screen
    at.run()
    assert english(texts(at), KEPT) == [] and no_english_in_the_charts(at, "loss_chart") == []
    assert at.selectbox(key="train_schedule").options == ["恒定", "阶梯衰减", "余弦退火", "指数衰减", "预热"]
    at.number_input(key="train_epochs").set_value(0).run()  # refused where it is typed, in Chinese
    assert at.error[0].value.startswith("轮数必须是 1 到 ") and english(texts(at), KEPT) == []
    at.number_input(key="train_epochs").set_value(400)
    at.number_input(key="train_lr").set_value(0.1)
    at.selectbox(key="train_schedule").set_value("step").run()  # a schedule: the learning-rate chart too
    assert at.selectbox(key="train_schedule").value == "step"  # the value stays the code's word
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.success)
    assert at.success[0].value.startswith("已在 cpu 上完成 400 轮")
    assert "系数（原始单位）" in [s.value for s in at.subheader]
    assert list(coefficient_table_zh(at)["参数"]) == ["area_m2", "rooms", "截距"]
    assert english(texts(at), KEPT) == []
    assert no_english_in_the_charts(at, "loss_chart", "fit_chart", "coef_chart", "lr_chart", "pred_actual", "residuals") == []

    from ui.cache import job_manager

    manager, run_id = job_manager(), at.session_state["live"].job_id
    manager.wait(run_id, timeout=30)
    with manager._lock:  # the server lets the ended run go: the page shows the stored copy, in Chinese too
        del manager._jobs[run_id]
    at.run()
    assert "400 / 400 轮" in at.info[0].value and "只读" in at.info[0].value
    assert english(texts(at), KEPT) == []


def coefficient_table_zh(at: AppTest):
    return next(d.value for d in at.dataframe if "参数" in d.value.columns)


def test_a_diverged_run_explains_itself_in_chinese(chinese):
    at = open_in_chinese("train")
    at.number_input(key="train_lr").set_value(50.0)
    at.number_input(key="train_epochs").set_value(500)
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.error)
    assert at.error[0].value.startswith("发散了。损失在第 ") and "2/λ_max = " in at.error[0].value
    assert at.button(key="train_next").label.startswith("用学习率 0.")
    assert [e.label for e in at.expander if e.label.startswith("仍然")] == ["仍然查看这次发散的训练"]
    assert english(texts(at), KEPT) == []
