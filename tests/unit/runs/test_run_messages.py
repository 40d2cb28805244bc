"""The run layer's words in the reader's language: a failed job's error and a finished run's reason go into the
run store as message ids with parameters and come back as Messages, shown in whichever language reads them;
StoreError, the saver's problem, the worker's own messages, the admin overview, the table and the overlay."""

import pickle
import threading

import pytest

from core.i18n import Message, _, use
from core.runs import JobManager, JobPolicy, RunStore, StoreError
from core.runs.figures import runs_overlay_figure
from core.runs.job import Job, status_label
from core.runs.overview import duration, failure_rows, limits_in_force
from core.runs.saving import RunSaver
from core.runs.table import loss_axis_title
from core.runs.worker import OUT_OF_MEMORY
from core.training import ConfigError, TrainConfig

CONFIG = {"optimizer": "sgd", "lr": 0.1, "epochs": 5}
DATASET = {"preset": "house_prices", "rows": 50, "target": "price"}


@pytest.fixture
def store(tmp_path):
    s = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    yield s
    s.close()


def in_both(value) -> tuple[str, str]:
    """str(value) in English, then in Chinese."""
    use("en")
    english = str(value)
    use("zh")
    chinese = str(value)
    use("en")
    return english, chinese


def test_a_failed_runs_error_comes_back_from_the_store_in_the_readers_language(store):
    store.create("oom", "alice", CONFIG, DATASET)
    store.finish("oom", "failed", {"reason": OUT_OF_MEMORY})  # as the manager keeps a failure: its error as the reason
    reason = RunStore(store.url).get("oom")["result"]["reason"]  # another server process reads it
    assert reason == OUT_OF_MEMORY
    english, chinese = in_both(reason)
    assert english.startswith("The run ran out of memory") and "smaller batch" in english
    assert "内存不足" in chinese and "批大小" in chinese and "ran out" not in chinese


def test_a_completed_runs_reason_keeps_its_parameters_and_a_reason_inside_it(store):
    reason = Message(
        "{reason} Its training process did not stop within {grace:g} s, so it was ended and replaced; the {n:,} epochs done are kept.",
        {"reason": Message("Stopped."), "grace": 5.0, "n": 12345},
    )
    store.create("r1", "alice", CONFIG, DATASET)
    store.finish("r1", "stopped", {"coef": {"area": 1.0}, "intercept": 0.0, "device": "cpu", "reason": reason, "elapsed_s": 0.5})
    run = store.get("r1")
    assert run["result"]["reason"] == reason and run["result"]["coef"] == {"area": 1.0}
    english, chinese = in_both(run["result"]["reason"])
    assert (
        english == "Stopped. Its training process did not stop within 5 s, so it was ended and replaced; the 12,345 epochs done are kept."
    )
    assert chinese == "已停止。它的训练进程在 5 秒内没有停下，因此被结束并替换；已完成的 12,345 轮都保留了。"


def test_an_older_run_with_plain_english_text_reads_as_written(store):
    store.create("old", None, CONFIG, DATASET)
    store.finish("old", "diverged", {"reason": "Diverged at epoch 3: the loss became NaN/inf.", "device": "cpu"})
    store.create("none", None, CONFIG, DATASET)
    store.finish("none", "completed", {"reason": "", "device": "cpu"})
    use("zh")
    assert store.get("old")["result"]["reason"] == "Diverged at epoch 3: the loss became NaN/inf."
    assert store.get("none")["result"]["reason"] == ""


def test_a_store_error_speaks_the_readers_language_and_crosses_a_pipe_with_its_parameters(store):
    store.create("r1", None, CONFIG, DATASET)
    with pytest.raises(StoreError) as caught:
        store.create("r1", None, CONFIG, DATASET)
    error = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(error, RuntimeError) and error.message == caught.value.message
    english, chinese = in_both(error)
    assert english == "A run with id 'r1' is already stored; give each run a unique id (e.g. a uuid)."
    assert chinese == "ID 为 'r1' 的训练已经保存过了；请给每次训练一个唯一的 ID（例如 uuid）。"
    with pytest.raises(StoreError) as empty:
        store.rename("r1", "   ")
    assert in_both(empty.value) == ("A run's name cannot be empty.", "训练的名称不能为空。")


def test_ragged_epochs_are_refused_in_the_readers_language(store):
    store.create("r1", None, CONFIG, DATASET)
    with pytest.raises(StoreError) as caught:
        store.append("r1", {"epoch": [1, 2], "train_loss": [0.5]})
    english, chinese = in_both(caught.value)
    assert english == (
        "These epochs cannot be stored: History column 'train_loss' has 1 values where the others have 2; every column needs one per epoch."
    )
    assert chinese.startswith("这些轮次无法保存：历史列 'train_loss' 有 1 个值")


def test_the_workers_own_messages_pickle_and_render_in_either_language():
    internal = Message("Training failed with an internal error ({kind}: {error}).", {"kind": "KeyError", "error": "'x'"})
    for message in (OUT_OF_MEMORY, internal):
        assert pickle.loads(pickle.dumps(message)) == message
    assert in_both(internal) == ("Training failed with an internal error (KeyError: 'x').", "训练因内部错误而失败（KeyError：'x'）。")


class BrokenStore(RunStore):
    """Every write fails with `broken`."""

    broken: Exception | None = None

    def _write(self):
        raise self.broken


def test_the_savers_problem_is_a_message_every_session_reads_in_its_own_language(tmp_path):
    """The job manager is one per server: its store problem must not be frozen in the language of whoever hit it."""
    store = BrokenStore(f"sqlite:///{tmp_path / 'runs.db'}")
    store.broken = StoreError("Could not read the run store at {url}: {reason}.", url=store.display_url, reason="disk I/O error")
    saver = RunSaver(store, threading.Lock())
    use("zh")  # the session whose write failed reads Chinese
    assert not saver.record(lambda s: s.set_status("r1", "running"))
    assert isinstance(saver.problem, Message)
    english, chinese = in_both(saver.problem)
    assert english.startswith("Could not read the run store at sqlite:///") and english.endswith(": disk I/O error.")
    assert chinese.startswith("无法读取位于 sqlite:///") and chinese.endswith("的训练记录库：disk I/O error。")
    store.broken = RuntimeError("the disk said no")  # a bug, not the store's own error
    assert not saver.record(lambda s: s.set_status("r1", "running"))
    assert in_both(saver.problem) == (
        "an unexpected RuntimeError in the run store: the disk said no",
        "训练记录库中出现意外的 RuntimeError：the disk said no",
    )


def test_the_admin_overview_speaks_the_readers_language():
    failed = Job("f", TrainConfig(), {"preset": "sine", "rows": 10}, owner="abcdef123456", status="failed", error=OUT_OF_MEMORY)
    use("zh")
    (row,) = failure_rows([failed], 0.0, limit=5)
    assert set(row) == {"finished", "owner", "epochs", "message"}  # the keys stay: ids of the headings the page shows
    assert row["owner"] == "会话 abcdef" and "内存不足" in row["message"] and _("message") == "消息"
    assert duration(45) == "45 秒" and duration(600) == "10.0 分钟"
    limits = limits_in_force(JobPolicy(max_run_s=90.0), 2)
    assert limits["wall time per run (DESCENT_MAX_RUN_S)"] == "90 秒"
    assert _("wall time per run (DESCENT_MAX_RUN_S)") == "每次训练的时间上限（DESCENT_MAX_RUN_S）"
    assert status_label("diverged") == "已发散" and status_label("something new") == "something new"
    use("en")
    (row,) = failure_rows([failed], 0.0, limit=5)
    assert row["owner"] == "session abcdef" and row["message"].startswith("The run ran out of memory")


def test_the_overlay_and_the_loss_axis_speak_the_readers_language():
    runs = [{"config": {"loss": "huber"}, "dataset": {"target": "price"}}]
    history = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "test_loss": [1.1, 0.6]}
    use("zh")
    assert loss_axis_title(runs) == "huber 损失" and loss_axis_title([*runs, {"config": {}, "dataset": {}}]) == "损失"
    fig = runs_overlay_figure({"abc123 · sgd lr=0.1": history})
    assert fig["layout"]["xaxis"]["title"]["text"] == "轮次" and fig["layout"]["yaxis"]["title"]["text"] == "损失"
    assert fig["layout"]["legend"]["title"]["text"] == "实线：训练 · 虚线：测试"
    assert [t["name"] for t in fig["data"]] == ["abc123 · sgd lr=0.1", "abc123 · sgd lr=0.1（测试）"]
    assert fig["data"][0]["hovertemplate"] == "第 %{x} 轮<br>训练损失 %{y:.4g}"
    use("en")
    assert runs_overlay_figure({"a": history})["layout"]["xaxis"]["title"]["text"] == "epoch"


def test_a_run_too_big_for_the_memory_cap_is_refused_in_the_readers_language():
    from core.data import make_dataset

    m = JobManager(n_workers=1, policy=JobPolicy(worker_memory_mb=1))
    try:
        with pytest.raises(ConfigError) as caught:
            m.submit(make_dataset("house_prices", n=300), TrainConfig(model="mlp", hidden=(4096, 4096), epochs=5))
    finally:
        m.shutdown()
    english, chinese = in_both(caught.value)
    assert "more than the 1 MB a run may use on this server" in english
    assert "超过了本服务器允许每次训练使用的 1 MB" in chinese and "GiB" in chinese


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_a_job_failed_by_the_manager_is_stored_as_a_message_and_read_back_in_either_language(tmp_path):
    from core.data import make_dataset

    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    m = JobManager(n_workers=1, store=store)
    try:
        job = m.wait(m.submit(make_dataset("house_prices", n=50), TrainConfig(epochs=5, device="cuda")).id, timeout=90)
        assert job.status == "failed" and isinstance(job.error, Message)
    finally:
        m.shutdown()
    stored = RunStore(store.url).get(job.id)
    assert stored["status"] == "failed" and stored["result"]["reason"] == job.error
    english, chinese = in_both(stored["result"]["reason"])
    assert english == "This server has no usable CUDA GPU: its training processes' torch sees none. Choose device auto or cpu."
    assert chinese == "本服务器没有可用的 CUDA GPU：训练进程中的 torch 一个也看不到。请把设备选为 auto 或 cpu。"
    store.close()
