"""The Environment page in the no-GPU state (this machine) and the fake-GPU state (DESCENT_FAKE_GPU=1: a fake H100).

The seam is the environment variable: the probe's child process and the live sampler both read it, and it is part of
the probe's cache key, so the two states never share a cached report.
"""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.env.nvml import FAKE_GPU_ENV
from tests.app.test_chinese import KEPT
from tests.app.words import english
from tests.app.words import texts as all_texts

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
PAGE = "../pages/environment.py"


def open_env_page(timeout: float = 90.0, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    deadline = time.monotonic() + timeout
    while len(at.metric) < 4:  # AppTest cannot fire run_every: rerun by hand until the probe is in
        assert not at.exception, at.exception
        assert time.monotonic() < deadline, "the probe did not finish"
        time.sleep(0.3)
        at.run()
    assert not at.exception, at.exception
    return at


def run_smoke_test(at: AppTest, done: str) -> None:
    """Start the smoke test (without torch.compile: slow on 2 cores) and rerun until it reports."""
    at.checkbox(key="env_smoke_compile").uncheck().run()
    at.button(key="env_smoke_start").click().run()
    deadline = time.monotonic() + 90
    while done not in texts(at.success) and not at.error and not at.warning:
        assert not at.exception, at.exception
        assert time.monotonic() < deadline, "the smoke test did not finish"
        time.sleep(0.5)
        at.run()


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.delenv(FAKE_GPU_ENV, raising=False)


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setenv(FAKE_GPU_ENV, "1")


def test_no_gpu_page_says_cpu_is_fine_and_gives_the_cpu_command(no_gpu):
    at = open_env_page()
    assert at.metric[0].label == "torch" and at.metric[3].value == "cpu"
    assert "No NVIDIA GPU found" in texts(at.info)
    commands = [c.value for c in at.code]
    pinned = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    assert pinned in commands or "Already right: this is the torch installed here (2.13.0" in texts(at.success)  # exactly that wheel here
    assert any(c.startswith("pip install torch==2.15.0") for c in commands)  # the latest release too
    assert not at.get("plotly_chart")  # no GPU, no live charts
    assert len(at.get("download_button")) == 2
    assert any("# Descent Lab environment report" in c for c in commands)  # the copyable Markdown


def test_fake_gpu_page_shows_verdict_fix_cards_and_history(fake_gpu):
    at = open_env_page()
    errors = texts(at.error)
    assert "is a +cpu build, but this machine has an NVIDIA GPU" in errors  # torch here is CPU-only
    assert "--index-url https://download.pytorch.org/whl/cu130" in errors
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu130" in [c.value for c in at.code]
    assert "NVIDIA H100 80GB HBM3 (fake)" in texts(at.markdown)
    assert [m.label for m in at.metric[4:8]] == ["utilization", "memory (GiB)", "temperature", "power"]
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    assert json.loads(charts[0].proto.spec)["data"][0]["name"] == "GPU 0"
    table = at.dataframe[0].value
    assert table.set_index("field").loc["fan", "value"] == "N/A (not supported on this GPU)"


def test_smoke_test_runs_from_the_page_and_reports_no_gpu(no_gpu):
    at = open_env_page()
    run_smoke_test(at, "All checks passed.")
    log = "\n".join(c.value for c in at.code)
    assert "ok   matmul check [cpu]" in log and "No CUDA GPU" in log
    assert "All checks passed." in texts(at.success)


# ------------------------------------------------------------------------------------------------ in Chinese


def open_env_page_in_chinese() -> AppTest:
    return open_env_page(lang="zh")


def test_in_chinese_after_a_smoke_test_nothing_is_english(no_gpu):
    at = open_env_page_in_chinese()
    assert "没有找到 NVIDIA GPU，训练使用 CPU" in texts(at.info)
    assert [m.label for m in at.metric[1:4]] == ["CUDA 可用", "torch.version.cuda", "训练设备"]
    run_smoke_test(at, "全部检查通过。")
    log = "\n".join(c.value for c in at.code)
    assert "通过 矩阵乘法校验 [cpu]: " in log and "没有 CUDA GPU" in log  # the child's messages, in the reader's language
    assert "## 冒烟测试" in log and "# Descent Lab 环境报告" in log  # the report to paste, smoke test appended
    assert english(all_texts(at), KEPT) == []
    at.segmented_control(key="lang_switch").set_value("en").run()  # the same child's events, now in English
    assert "ok   matmul check [cpu]: " in "\n".join(c.value for c in at.code)


def test_in_chinese_the_fake_gpu_cards_charts_and_table_have_no_english(fake_gpu):
    at = open_env_page_in_chinese()
    assert [m.label for m in at.metric[4:8]] == ["利用率", "显存（GiB）", "温度", "功耗"]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles == ["GPU 利用率", "已用显存", "温度", "功耗"]
    table = at.dataframe[0].value
    assert table.set_index("字段").loc["风扇", "值"] == "N/A (这块 GPU 不支持)"
    assert english(all_texts(at), [*KEPT, "fake"]) == []  # "(fake)" is the fake GPU's name
