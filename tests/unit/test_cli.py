import json
import subprocess
import sys
from pathlib import Path

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


def test_env_json_reports_the_training_device():
    out = run("env", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["torch_version"] and report["training_device"] in ("cpu", "cuda:0", "mps")
