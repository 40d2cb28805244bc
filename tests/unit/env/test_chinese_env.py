"""The doctor, the install advice, the report and the smoke test in Chinese: made in the reader's language, with
commands, versions and numbers untouched; a smoke-test event from the child is shown in whoever reads it's language."""

import json
import pickle

from core.env import EnvReport, doctor, install, machine
from core.env.bug_report import gpu_rows, report_dict, report_markdown
from core.env.figures import gpu_history_figure
from core.env.nvml import GPU, HINTS, FakeNvml, NvmlError, NvmlLibraryNotFound
from core.env.report import shown
from core.env.smoke import CheckFailed, _emitted, format_event, smoke_markdown
from core.i18n import Message, encode, use
from tests.unit.env.test_doctor import CASES, report


def verdict(code: str) -> doctor.Verdict:
    return next(v for v in doctor.verdicts(CASES[code]) if v.code == code)


def test_verdicts_follow_the_language_and_keep_their_commands(chinese):
    cpu = verdict("cpu_torch_with_gpu")
    assert cpu.title == "torch 2.13.0+cpu 是 +cpu 版本，但这台机器有 NVIDIA GPU"
    assert cpu.fix == "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu130"  # code stays code
    old = verdict("driver_too_old")
    assert old.title == "驱动 535.104.05（支持 CUDA 12.2）太旧，无法运行 torch 的 CUDA 13.0"
    assert old.fix.startswith("把 NVIDIA 驱动升级到 580.65.06 或更新版本") and old.fix.endswith(
        "--index-url https://download.pytorch.org/whl/cu126"
    )
    assert verdict("driver_minor_compat").title.endswith("只能通过次版本兼容运行 torch 的 CUDA 13.2")
    assert verdict("no_gpu").title == "没有找到 NVIDIA GPU，训练使用 CPU"
    assert verdict("ready").title == "一切就绪：torch 2.13.0+cu130 在 GPU0（cuda:0）上训练"
    use("en")
    assert verdict("no_gpu").title == "No NVIDIA GPU found: training uses the CPU"
    assert verdict("driver_too_old").title == "The driver 535.104.05 (supports CUDA 12.2) is too old for torch's CUDA 13.0"


def test_every_verdict_has_chinese_title_and_detail(chinese):
    made_up = ("driver_mismatch", "nvml_function_missing", "nvml_failed")  # the grid's NVML statuses are not real ones
    for code, case in CASES.items():
        for v in doctor.verdicts(case):
            assert any("\u4e00" <= c <= "\u9fff" for c in v.title), (code, v.title)
            if v.detail and v.code not in made_up:
                assert any("\u4e00" <= c <= "\u9fff" for c in v.detail), (code, v.detail)


def test_an_nvml_failure_from_the_probe_child_reads_in_the_readers_language(chinese):
    nvml = FakeNvml([])
    nvml.device_count = lambda: (_ for _ in ()).throw(NvmlError("GPU is lost"))
    failed = machine.probe(nvml=nvml)
    assert failed.nvml_status.startswith("i18n:")  # the id and its parameters, as the child wrote them
    v = next(v for v in doctor.verdicts(EnvReport.from_dict(json.loads(json.dumps(failed.to_dict())))) if v.code == "nvml_failed")
    assert v.detail == "NVML 查询失败：GPU is lost"
    use("en")
    assert shown(failed.nvml_status) == "NVML query failed: GPU is lost"
    assert report_dict(failed)["nvml_status"] == "NVML query failed: GPU is lost"  # JSON for a bug report: text, not the encoding


def test_the_json_report_holds_text_in_the_chosen_language_never_encoded_messages(chinese):
    r = report(notes=[], nvml_status="ok")
    r.notes.append(encode(Message("torch cannot be imported: {error}", {"error": "No module named 'torch'"})))
    d = json.loads(json.dumps(report_dict(r)))
    assert not any("i18n:" in json.dumps(v, ensure_ascii=False) for v in d.values())
    assert d["notes"][0].endswith("No module named 'torch'") and "torch" in d["notes"][0] and d["notes"][0] != r.notes[0]


def test_install_advice_says_why_in_chinese_and_its_command_is_verbatim(chinese):
    a = install.advise(report(cc="8.6", driver="535.104.05", cuda_driver="12.2"), "2.13.0", "x")
    assert a.command == "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
    assert "次版本兼容" in a.why and "560.28.03" in a.why
    pinned, latest = install.install_advice(report())
    assert (pinned.label, latest.label) == ("requirements.txt 中固定的版本", "最新版本")


def test_the_markdown_report_in_chinese_says_already_installed(chinese):
    from dataclasses import replace

    cpu_here = replace(CASES["no_gpu"], torch_version="2.13.0+cpu", torch_build="cpu", torch_cuda=None)
    md = report_markdown(cpu_here)
    assert md.startswith("# Descent Lab 环境报告\n") and "## 诊断结论" in md and "## 系统" in md
    assert "本机已安装，无需操作" in md and "**提示：没有找到 NVIDIA GPU，训练使用 CPU**。" in md
    assert "`pip install torch==2.15.0 --index-url https://download.pytorch.org/whl/cpu`" in md


def test_an_nvml_hint_and_a_gpu_field_reason_are_kept_in_english_and_shown_in_chinese(chinese):
    """The probe's report is cached for every session: it holds the English id, the reader gets their language."""
    r = report(gpus=[], nvml_error="NvmlLibraryNotFound", nvml_status=HINTS[NvmlLibraryNotFound])
    assert r.nvml_status.startswith("No NVIDIA driver found")
    assert "没有找到 NVIDIA 驱动" in report_markdown(r)
    g = GPU(index=0, name="H100", na={"fan_pct": "not supported on this GPU"})
    rows = dict(gpu_rows(g))
    assert rows["风扇"] == "N/A (这块 GPU 不支持)"


def test_gpu_charts_have_chinese_titles(chinese):
    fig = gpu_history_figure({0: {"t": [1.0], "util": [5], "mem": [1.0], "temp": [40], "power": [100.0]}}, "mem")
    assert fig["layout"]["title"]["text"] == "已用显存" and fig["layout"]["xaxis"]["title"]["text"] == "秒前"


def test_a_smoke_event_carries_its_message_to_a_reader_in_another_language():
    """The child writes JSON in its own language; the page re-renders the message id for its reader."""
    use("en")
    ev = _emitted(
        {
            "step": "matmul check",
            "status": "ok",
            "device": "cpu",
            "message": Message("{tflops:.2f} TFLOP/s ({n}×{n} matmul)", {"tflops": 1.234, "n": 512}),
        }
    )
    ev = json.loads(json.dumps(ev))  # through the pipe
    assert ev["message"] == "1.23 TFLOP/s (512×512 matmul)"
    assert format_event(ev) == "ok   matmul check [cpu]: 1.23 TFLOP/s (512×512 matmul)"
    try:
        use("zh")
        assert format_event(ev) == "通过 矩阵乘法校验 [cpu]: 1.23 TFLOP/s（512×512 矩阵乘法）"
        assert format_event({"step": "GPU", "status": "skip", "device": "", "message": "x"}) == "跳过 GPU: x"
        assert smoke_markdown([ev]).startswith("\n## 冒烟测试\n\n")
    finally:
        use("en")


def test_a_failed_check_renders_in_both_languages_and_pickles_with_its_parameters():
    err = CheckFailed("{n}×{n} fp32 matmul differs from the fp64 CPU result by {err:.2e} (relative), more than 1e-4", n=4, err=0.5)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, AssertionError) and back.message.params == {"n": 4, "err": 0.5}
    assert str(back) == "4×4 fp32 matmul differs from the fp64 CPU result by 5.00e-01 (relative), more than 1e-4"
    try:
        use("zh")
        assert str(back) == "4×4 的 fp32 矩阵乘法与 CPU 上 fp64 的结果相差 5.00e-01（相对误差），超过了 1e-4"
    finally:
        use("en")
