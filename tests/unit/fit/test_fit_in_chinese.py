"""Will it fit? in both languages: the errors, the verdict and the table of parts, built in the reader's language."""

import pickle

import pytest

from core.fit import ArchSpec, MemoryConfigError, Workload, estimate, verdict
from core.fit.presets import GPU_CARDS, MODEL_PRESETS
from core.fit.verdict import bars, explain
from core.i18n import use

LLAMA70B = MODEL_PRESETS["Llama-3.1-70B"].arch
H100 = GPU_CARDS["NVIDIA H100 (80 GB)"].memory_bytes


def test_a_bad_architecture_is_a_message_in_either_language_and_pickles_with_its_parameters():
    with pytest.raises(MemoryConfigError) as err:
        ArchSpec(2, 100, 32, 7, 10, 10).validate()
    e = pickle.loads(pickle.dumps(err.value))
    assert isinstance(e, ValueError) and dict(e.message.params) == {"heads": 32, "kv_heads": 7}
    assert str(e) == "attention heads (32) must be a multiple of KV heads (7)."
    use("zh")
    assert str(e) == "注意力头数（32）必须是 KV 头数（7）的整数倍。"


def test_the_verdict_and_its_fixes_speak_the_language_of_whoever_asked():
    wl = Workload("full", "bf16")
    english = verdict(LLAMA70B, wl, H100)
    use("zh")
    chinese = verdict(LLAMA70B, wl, H100)
    assert english.kind == chinese.kind == "more_gpus" and len(english.fixes) == len(chinese.fixes)
    assert english.headline.startswith("Does not fit as set") and chinese.headline.startswith("按当前设置放不下")
    assert "激活检查点" in chinese.headline and "ZeRO-3 / FSDP（切分权重、梯度和优化器状态）" in chinese.headline
    assert [f.workload for f in english.fixes] == [f.workload for f in chinese.fixes]  # the same fixes, in other words
    labels = [label for label, _ in bars(LLAMA70B, chinese)]
    assert labels[0] == "你的设置" and all(len(line) <= 21 for label in labels[1:] for line in label.split("<br>"))


def test_the_table_of_parts_keeps_its_keys_and_explains_in_chinese():
    use("zh")
    est = estimate(LLAMA70B, Workload("lora", "bf16", optimizer="adamw"))
    rows = explain(est)
    assert [r["part"] for r in rows][:2] == ["weights", "gradients"]  # keys for code; the page labels them
    assert rows[2]["how"] == "AdamW：fp32 主权重副本 + 两个 fp32 矩估计"
    assert est.notes[0].startswith("LoRA 适配器：")
