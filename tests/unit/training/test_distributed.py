"""The same train() under torchrun with 2 gloo processes gives the single process's run."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], ranks: int) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    prefix = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-port", str(free_port()), "-m"]
    cmd = (prefix if ranks > 1 else [sys.executable, "-m"]) + ["core", "train", "--json", *args]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    "args",
    [
        ["--epochs", "200", "--lr", "0.1"],  # full batch: sufficient statistics reduced across ranks once
        ["--epochs", "20", "--lr", "0.05", "--batch-size", "64", "--optimizer", "momentum"],  # gradients all-reduced each step
        ["--epochs", "15", "--model", "mlp", "--optimizer", "adam", "--batch-size", "100"],  # autograd, all-reduced
    ],
)
def test_two_ranks_reproduce_one_process(args):
    one, two = run(args, 1), run(args, 2)
    assert two[-1]["world_size"] == 2 and one[-1]["world_size"] == 1
    losses_one = [r["train_loss"] for r in one if "epoch" in r]
    losses_two = [r["train_loss"] for r in two if "epoch" in r]
    assert losses_two == pytest.approx(losses_one, rel=1e-5)
    for name, value in one[-1]["coef"].items():
        assert two[-1]["coef"][name] == pytest.approx(value, rel=1e-5)
