import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

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
