import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from core.data.dataset import DataError
from core.i18n import LocalizedError
from core.training.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_train_json_prints_every_epoch_then_a_summary():
    out = run("train", "--preset", "house_prices", "--epochs", "100", "--lr", "0.01", "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["epoch"] for line in lines[:-1]] == list(range(1, 101))
    losses = [line["train_loss"] for line in lines[:-1]]
    assert losses[-1] < losses[0]
    summary = lines[-1]
    assert summary["summary"] and summary["status"] == "completed" and set(summary["coef"]) == {"area_m2", "rooms"}


def test_bad_input_is_a_message_not_a_traceback():
    out = run("train", "--epochs", "0")
    assert out.returncode == 2
    assert out.stderr.startswith("error: epochs must be") and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("--seed", "-1"), "error: seed must be a whole number from 0"),
        (("--seed", str(10**23)), "error: seed must be a whole number from 0"),
        (("--data-seed", "-1"), "error: The data seed must be a whole number from 0"),
        (("--model", "mlp", "--hidden", ",".join(["4"] * 9)), "error: hidden must list 1 to 8 layers"),
    ],
)
def test_out_of_range_seeds_and_too_deep_a_model_are_one_line_errors(args, message):
    out = run("train", "--epochs", "2", *args)
    assert out.returncode == 2 and out.stderr.startswith(message) and "Traceback" not in out.stderr, out.stderr


def test_env_json_reports_the_training_device():
    out = run("env", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["torch_version"] and report["training_device"] in ("cpu", "cuda:0", "mps")


def test_every_config_field_is_a_flag():
    out = run(
        "train",
        "--model",
        "mlp",
        "--hidden",
        "8,4",
        "--optimizer",
        "adamw",
        "--loss",
        "huber",
        "--schedule",
        "cosine",
        "--epochs",
        "5",
        "--no-standardize",
        "--grad-clip",
        "1.0",
        "--batch-size",
        "64",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.splitlines()[-1], parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert summary["config"]["hidden"] == [8, 4] and summary["config"]["standardize"] is False
    assert summary["config"]["batch_size"] == 64 and summary["intercept"] is None  # an MLP has no intercept


def test_training_on_a_csv(tmp_path):
    path = tmp_path / "flats.csv"
    path.write_text(
        "area_m2,rooms,price\n"
        + "".join(f"{a},{r},{50000 + 3000 * a + 20000 * r}\n" for a, r in [(30, 1), (55, 2), (80, 3), (120, 4), (150, 5), (99, 3)])
    )
    out = run("train", "--csv", str(path), "--target", "price", "--lr", "0.1", "--epochs", "3000", "--test-fraction", "0", "--json")
    assert out.returncode == 0, out.stderr
    coef = json.loads(out.stdout.splitlines()[-1])["coef"]
    assert coef["area_m2"] == pytest.approx(3000, rel=1e-3) and coef["rooms"] == pytest.approx(20000, rel=1e-2)


def test_a_run_out_of_memory_is_a_message_not_a_traceback():
    """200k rows through a 4096×4096 MLP at full batch need ~20 GB; the process may have 4 GB of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.RLIM_INFINITY))

    cmd = [sys.executable, "-m", "core", "train", "--n", "200000", "--model", "mlp", "--hidden", "4096,4096", "--epochs", "1"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert out.returncode == 3 and out.stderr.startswith("error: the run ran out of memory") and "Traceback" not in out.stderr


# ------------------------------------------------------------------------------------------------ in Chinese


def run_env(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env={**clean, **env}
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_lang_zh_prints_the_training_in_chinese(where):
    flags = ["train", "--epochs", "3", "--n", "50"]
    out = run_env(*(["--lang", "zh", *flags] if where == "before" else [*flags, "--lang", "zh"]))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("轮次 [1/3]  损失 ") and "测试集损失" in lines[0]
    assert lines[3].startswith("已完成：在 cpu 上用时 ") and lines[-1].startswith("  截距：")
    assert any(line.startswith("  area_m2: ") for line in lines)  # a column's name is data: as it is


def test_the_shell_locale_chooses_chinese_and_lang_overrides_it():
    out = run_env("train", "--epochs", "2", "--n", "50", LANG="zh_CN.UTF-8")
    assert out.returncode == 0 and out.stdout.startswith("轮次 [1/2]"), out.stderr
    out = run_env("train", "--epochs", "2", "--n", "50", "--lang", "en", LC_ALL="zh_CN.UTF-8")
    assert out.stdout.startswith("Epoch [1/2]  loss ")
    assert run_env("train", "--epochs", "2", "--n", "50").stdout.startswith("Epoch [1/2]")  # no locale: English


def test_json_keys_and_statuses_stay_english_in_chinese():
    out = run_env("--lang", "zh", "train", "--epochs", "2", "--n", "50", "--json")
    summary = json.loads(out.stdout.splitlines()[-1])
    assert summary["status"] == "completed" and set(summary) >= {"summary", "reason", "coef", "intercept"}


def test_env_prints_its_report_in_chinese():
    out = run_env("env", "--lang", "zh")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Descent Lab 环境报告\n") and "## 诊断结论" in out.stdout and "## 安装 torch" in out.stdout
    assert "pip install torch==" in out.stdout  # the command itself stays verbatim
    assert run_env("env", LANG="zh_CN.UTF-8").stdout.startswith("# Descent Lab 环境报告")


def test_the_smoke_test_speaks_chinese_but_its_json_keeps_its_step_names():
    out = run_env("--lang", "zh", "env", "--smoke", "--quick", "--no-compile")
    assert out.returncode == 0, out.stderr
    assert "通过 矩阵乘法校验 [cpu]: " in out.stdout and out.stdout.rstrip().endswith("全部检查通过。")
    events = [
        json.loads(line) for line in run_env("--lang", "zh", "env", "--smoke", "--json", "--quick", "--no-compile").stdout.splitlines()
    ]
    assert any(e.get("step") == "matmul check" and "矩阵乘法" in e["message"] for e in events)


def test_an_error_is_printed_in_chinese(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n2,3\n")
    for args in (("--epochs", "0"), ("--csv", str(bad), "--epochs", "2")):  # a config error, a data error
        out = run_env("--lang", "zh", "train", *args)
        assert out.returncode == 2 and out.stderr.startswith("错误：") and "Traceback" not in out.stderr, out.stderr


@pytest.mark.skipif(
    not (issubclass(ConfigError, LocalizedError) and issubclass(DataError, LocalizedError)),
    reason="ConfigError and DataError get their message ids on the train and data branches",
)
def test_the_error_itself_is_in_chinese(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n2,3\n")
    for args in (("--epochs", "0"), ("--csv", str(bad), "--epochs", "2")):
        out = run_env("--lang", "zh", "train", *args)
        message = out.stderr.removeprefix("错误：")
        assert out.returncode == 2 and any("\u4e00" <= c <= "\u9fff" for c in message), out.stderr


def test_help_is_in_chinese():
    out = run_env("--lang", "zh", "train", "--help")
    assert out.returncode == 0 and "预设数据的行数" in out.stdout and "--lang {en,zh}" in out.stdout
