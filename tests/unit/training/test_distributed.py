"""The same train() under torchrun with 2 gloo processes gives the single process's run."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def why(out: subprocess.CompletedProcess) -> str:
    """A rank's own last words come first in stderr, torchrun's summary of the failure last: show both."""
    err = out.stderr
    return err if len(err) <= 4000 else err[:2000] + "\n…\n" + err[-2000:]


def run(args: list[str], ranks: int) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # "--": torchrun's own parser would otherwise read the CLI's --n as an ambiguous abbreviation of its options
    prefix = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-port", str(free_port()), "--", "-m"]
    cmd = (prefix if ranks > 1 else [sys.executable, "-m"]) + ["core", "train", "--json", *args]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, why(out)
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


# ---------------------------------------------------------------- each rank reads only its own rows

BLOCKS = {"DESCENT_PRESET_BLOCK_ABOVE": "1000", "DESCENT_PRESET_BLOCK_ROWS": "300"}  # block generation at a small n

CONFIGS = [
    ["--epochs", "100", "--lr", "0.1"],  # full batch: the moments merged across ranks
    ["--epochs", "5", "--lr", "0.05", "--batch-size", "64", "--optimizer", "momentum"],  # a batch's rows split by range
    ["--epochs", "2", "--lr", "0.01", "--batch-size", "1"],  # most batches have no row on one of the ranks
    ["--epochs", "8", "--model", "mlp", "--optimizer", "adam", "--batch-size", "100"],  # DDP
    ["--epochs", "2", "--model", "mlp", "--optimizer", "adam", "--batch-size", "2", "--loss", "mae"],  # DDP, empty parts
]


def run_env(args: list[str], ranks: int, extra: dict[str, str]) -> list[dict]:
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        return run(args, ranks)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def same_run(one: list[dict], two: list[dict]) -> None:
    for key in ("train_loss", "test_loss"):
        assert [r[key] for r in two if "epoch" in r] == pytest.approx([r[key] for r in one if "epoch" in r], rel=1e-5)
    for name, value in one[-1]["coef"].items():
        assert two[-1]["coef"][name] == pytest.approx(value, rel=1e-5)


def halves(counts: list[int], n: int) -> bool:
    return sum(counts) == n and len(counts) == 2 and all(abs(c - n / 2) <= 0.01 * n for c in counts)


@pytest.fixture(scope="module")
def plain_csv(tmp_path_factory) -> Path:
    """House prices as a file of plain numbers, rows in no particular order of size."""
    sys.path.insert(0, str(ROOT))
    from core.data.presets import make_dataset

    path = tmp_path_factory.mktemp("csv") / "houses.csv"
    make_dataset("house_prices", n=601, seed=3).frame().to_csv(path, index=False)
    return path


@pytest.mark.parametrize("args", CONFIGS)
def test_two_ranks_each_read_half_a_csv_and_reproduce_one_process(args, plain_csv):
    one, two = run([*args, "--csv", str(plain_csv)], 1), run([*args, "--csv", str(plain_csv)], 2)
    assert halves(two[-1]["rows_per_rank"], 601), two[-1]["rows_per_rank"]  # each rank read only its byte range
    same_run(one, two)


def test_a_csv_with_text_is_read_whole_by_every_rank_and_still_reproduces_one_process(tmp_path):
    path = tmp_path / "labelled.csv"
    lines = ["city,area,price"] + [f"c{i % 7},{30 + (i * 37) % 200},{1000 + 13 * ((i * 37) % 200) + (i * 11) % 17}" for i in range(300)]
    path.write_text("\n".join(lines) + "\n")
    args = ["--epochs", "50", "--lr", "0.1", "--csv", str(path)]
    one, two = run(args, 1), run(args, 2)
    assert two[-1]["rows_per_rank"] == [150, 150]  # sliced to the same ranges after the whole read
    same_run(one, two)


@pytest.mark.parametrize("args", [CONFIGS[0], CONFIGS[1], CONFIGS[3]])
def test_two_ranks_draw_their_blocks_of_a_large_preset_and_reproduce_one_process(args):
    data = ["--preset", "with_outliers", "--n", "2500", "--data-seed", "4"]
    one, two = run_env([*data, *args], 1, BLOCKS), run_env([*data, *args], 2, BLOCKS)
    assert two[-1]["rows_per_rank"] == [1250, 1250]
    same_run(one, two)


SHARD_SCRIPT = """
import os, sys
import numpy as np
import torch.distributed as dist
sys.path.insert(0, os.getcwd())
from core.__main__ import exit_rank
from core.training.shards import load_preset_shard
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
ds, rows = load_preset_shard("house_prices", 2500, 0.2, 9, rank, world)
np.save(os.path.join(sys.argv[1], f"rank{rank}.npy"), np.column_stack([ds.X.to_numpy(), ds.y.to_numpy()]))
np.save(os.path.join(sys.argv[1], f"lo{rank}.npy"), np.array([rows.lo, rows.n]))
exit_rank(0)
"""


def test_the_rows_a_rank_draws_are_those_of_one_process(tmp_path, monkeypatch):
    script = tmp_path / "shard.py"
    script.write_text(SHARD_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", **BLOCKS}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(free_port()), str(script)]
    out = subprocess.run([*cmd, str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, why(out)

    sys.path.insert(0, str(ROOT))
    from core.data import presets

    monkeypatch.setattr(presets, "BLOCK_ABOVE", 1000)
    monkeypatch.setattr(presets, "BLOCK_ROWS", 300)
    whole = presets.make_dataset("house_prices", n=2500, noise=0.2, seed=9)
    whole = np.column_stack([whole.X.to_numpy(), whole.y.to_numpy()])
    for rank in (0, 1):
        lo, n = np.load(tmp_path / f"lo{rank}.npy")
        rows = np.load(tmp_path / f"rank{rank}.npy")
        assert n == 2500 and len(rows) == 1250
        assert np.array_equal(rows, whole[lo : lo + len(rows)])  # bit for bit
