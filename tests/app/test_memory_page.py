"""The "Will it fit?" page through streamlit.testing's AppTest."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
PAGE = "../pages/memory.py"


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    at.selectbox(key="fit_gpu").set_value("GeForce RTX 4090 (24 GB)")  # the same card whether or not this machine has a GPU
    return at.run()


def test_page_renders_with_a_verdict_and_a_chart():
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Will it fit?"
    assert at.success[0].value.startswith("Fits on one GPU")  # Llama-3.1-8B, bf16 inference, 4,096 tokens on a 4090
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["barmode"] == "stack" and spec["data"][0]["name"] == "weights"


def test_a_preset_gives_a_verdict_on_the_chosen_card():
    at = open_page()
    at.selectbox(key="fit_model").set_value("Qwen2.5-72B")
    at.selectbox(key="fit_gpu").set_value("NVIDIA H200 (141 GB)").run()
    assert not at.exception
    assert "Needs 2 GPUs with tensor parallel" in at.warning[0].value  # 72.7B in bf16 is 135 GiB of weights alone
    at.selectbox(key="fit_dtype_inference").set_value("int4").run()
    assert "Fits on one GPU" in at.success[0].value


def test_an_impossible_setting_says_what_would_make_it_fit():
    at = open_page()
    at.selectbox(key="fit_model").set_value("Llama-3.1-70B")
    at.radio(key="fit_mode").set_value("full")
    at.selectbox(key="fit_gpu").set_value("NVIDIA T4 (16 GB)").run()
    assert not at.exception and not at.success
    headline = (at.warning or at.error)[0].value
    assert headline.startswith("Does not fit as set")
    at.selectbox(key="fit_gpu").set_value("NVIDIA H100 (80 GB)").run()
    headline = at.warning[0].value
    assert "Needs activation checkpointing" in headline and "GPUs with ZeRO-3" in headline
    fixes = at.dataframe[0].value
    assert any(c.startswith("QLoRA") for c in fixes["change"]) and (fixes["GiB per GPU"] <= 80).all()


def test_several_gpus_with_tensor_parallel():
    at = open_page()
    at.selectbox(key="fit_model").set_value("Llama-3.1-70B")
    at.selectbox(key="fit_gpu").set_value("NVIDIA H100 (80 GB)")
    at.number_input(key="fit_n_gpus").set_value(4).run()
    assert not at.exception
    assert at.success[0].value.startswith("Fits on 4 GPUs with tensor parallel")


def test_a_bad_custom_architecture_is_a_message_not_a_traceback():
    at = open_page()
    at.selectbox(key="fit_model").set_value("Custom architecture…").run()
    at.number_input(key="fit_kv").set_value(7).run()  # 32 heads are not a multiple of 7 KV heads
    assert not at.exception
    assert "multiple of KV heads" in at.error[0].value


# ---------------------------------------------------------------- in Chinese, past the first open


def test_the_page_in_chinese_with_a_verdict_its_fixes_notes_and_an_error(chinese):
    from tests.app.test_chinese import KEPT, open_in_chinese
    from tests.app.words import english, texts

    at = open_in_chinese("memory")
    assert at.title[0].value != "Will it fit?"  # its Chinese title is the lead's (app.po)
    at.selectbox(key="fit_model").set_value("Llama-3.1-70B")
    at.radio(key="fit_mode").set_value("full")
    at.selectbox(key="fit_gpu").set_value("NVIDIA H100 (80 GB)").run()
    assert not at.exception
    headline = at.warning[0].value
    assert headline.startswith("按当前设置放不下") and "激活检查点" in headline, headline
    assert list(at.dataframe[0].value.columns) == ["改动", "每块 GPU 的 GiB"]
    assert english(texts(at), KEPT) == []
    at.radio(key="fit_mode").set_value("qlora").run()  # a LoRA note under the table
    assert any(c.value.startswith("LoRA 适配器") for c in at.caption) and english(texts(at), KEPT) == []
    at.radio(key="fit_mode").set_value("inference")
    at.number_input(key="fit_n_gpus").set_value(4).run()
    assert at.success[0].value.startswith("4 块 GPU 配合张量并行（每一层拆分到多块 GPU 上）放得下：")
    assert english(texts(at), KEPT) == []
    at.selectbox(key="fit_model").set_value("Qwen2.5-0.5B").run()  # a source that reads "config.json and model card"
    assert any("和模型卡" in c.value for c in at.caption) and english(texts(at), KEPT) == []
    at.selectbox(key="fit_model").set_value("Custom architecture…").run()
    at.number_input(key="fit_kv").set_value(7).run()
    assert "必须是 KV 头数（7）的整数倍" in at.error[0].value
    assert english(texts(at), KEPT) == []
