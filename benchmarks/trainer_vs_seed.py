"""Our trainer against the seed document's loop on the same data and the same trajectory.

The seed's loop: nn.Linear + nn.MSELoss + torch.optim.SGD, full batch, loss.item() every epoch. Ours: the
same model, loss, optimizer and start point through core.training.train (standardize off, no test split,
so both see identical tensors). Also a plain hand-written gradient loop, the floor for this problem.

Then whole calls at n = 1M, 200 full-batch epochs, from a Dataset, interleaved so both see the same machine:
the seed's program (its tensors made from the Dataset, then its loop) against one train() call; our setup alone
(train() with one epoch) against the one-pass floor (reading every value of X and y once: X.sum(0), y.sum()).

    .venv/bin/python benchmarks/trainer_vs_seed.py [--device cpu|cuda] [--threads N] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from core.data import Dataset, Scaler, make_dataset  # noqa: E402
from core.training import (
    TrainConfig,  # noqa: E402
    train,  # noqa: E402
)


def seed_loop(X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float) -> list[float]:
    model = nn.Linear(X.shape[1], 1).to(X.device)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    criterion, optimizer = nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr)
    targets = y.unsqueeze(1)
    losses = []
    for _ in range(epochs):
        loss = criterion(model(X), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())  # host sync every epoch, as the seed prints it
    return losses


def hand_written(X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float) -> None:
    A = torch.cat([X, torch.ones(len(X), 1, device=X.device)], 1)
    w = torch.zeros(A.shape[1], device=X.device)
    for _ in range(epochs):
        r = A @ w - y
        w -= (2 * lr / len(y)) * (A.T @ r)


def timed(fn, *args, repeats: int = 3) -> tuple[float, object]:
    """Best of a few runs: on a shared machine the fastest run is the one least disturbed by others."""
    best, out = float("inf"), None
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn(*args)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best, out


def case(n: int, epochs: int, device: str, lr: float = 0.01, extra: int = 20_000) -> None:
    raw = make_dataset("house_prices", n=n, seed=0)
    s = Scaler.fit(raw.X.to_numpy(), raw.y.to_numpy())
    Xs, ys = s.transform(raw.X.to_numpy(), raw.y.to_numpy())
    ds = Dataset(X=raw.X.__class__(Xs, columns=raw.features), y=raw.y.__class__(ys, name="price"), name="house_prices_standardized")
    X = torch.tensor(Xs, dtype=torch.float32, device=device)
    y = torch.tensor(ys, dtype=torch.float32, device=device)
    cfg = TrainConfig(lr=lr, epochs=epochs, standardize=False, test_fraction=0.0, device=device)
    longer = TrainConfig(**{**cfg.to_dict(), "epochs": epochs + extra})

    seed_loop(X, y, 5, lr), train(ds, TrainConfig(**{**cfg.to_dict(), "epochs": 5})), hand_written(X, y, 5, lr)  # warm
    t_seed, seed_losses = timed(seed_loop, X, y, epochs, lr)
    t_ours, result = timed(train, ds, cfg)
    # per epoch, without our one-off setup (split, scaling, copying to the device, the moments): the difference
    # of two runs `extra` epochs apart, long enough that the setup's own jitter does not matter
    t_longer, _ = timed(train, ds, longer)
    per_epoch = (t_longer - t_ours) / extra
    setup_s = t_ours - epochs * per_epoch
    t_hand, _ = timed(hand_written, X, y, epochs, lr)
    same = np.allclose(result.history["train_loss"], seed_losses, rtol=1e-5)
    us = 1e6 / epochs
    print(
        f"n={n:>9,} {device}: seed {t_seed * us:8.1f} µs/epoch | ours {per_epoch * 1e6:8.1f} µs/epoch | "
        f"hand-written {t_hand * us:8.1f} µs/epoch | ratio seed/ours {t_seed / epochs / per_epoch:5.2f} | "
        f"same trajectory: {same} | our one-off setup {setup_s * 1e3:.0f} ms"
    )


def seed_program(ds: Dataset, epochs: int, lr: float, device: str) -> list[float]:
    """The seed's whole run from a Dataset: tensors from the frame's values, then its loop."""
    X = torch.tensor(ds.X.to_numpy(), dtype=torch.float32, device=device)
    y = torch.tensor(ds.y.to_numpy(), dtype=torch.float32, device=device)
    return seed_loop(X, y, epochs, lr)


def one_pass(ds: Dataset) -> float:
    """The floor for any setup: every value of X and y read once."""
    return float(ds.X.to_numpy().sum(axis=0).sum() + ds.y.to_numpy().sum())


def whole_call(n: int, epochs: int, device: str, repeats: int, lr: float = 0.01) -> None:
    raw = make_dataset("house_prices", n=n, seed=0)
    s = Scaler.fit(raw.X.to_numpy(), raw.y.to_numpy())
    Xs, ys = s.transform(raw.X.to_numpy(), raw.y.to_numpy())
    ds = Dataset(X=raw.X.__class__(Xs, columns=raw.features), y=raw.y.__class__(ys, name="price"), name="house_prices_standardized")
    cfg = TrainConfig(lr=lr, epochs=epochs, standardize=False, test_fraction=0.0, device=device)  # the seed's trajectory
    defaults = TrainConfig(lr=lr, epochs=epochs, device=device)  # z-scores and a 20 % test split, on the raw data
    setup_only = TrainConfig(**{**cfg.to_dict(), "epochs": 1})
    runs = {
        "seed": lambda: seed_program(ds, epochs, lr, device),
        "ours": lambda: train(ds, cfg),
        "ours, z-scores + 20% test": lambda: train(raw, defaults),
        "setup": lambda: train(ds, setup_only),
        "one pass": lambda: one_pass(ds),
    }
    for fn in runs.values():
        fn()  # warm
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):  # interleaved: a busy moment on a shared machine hits every figure alike
        for k, fn in runs.items():
            times[k].append(timed(fn, repeats=1)[0])
    med = {k: float(np.median(v)) for k, v in times.items()}
    same = np.allclose(runs["ours"]().history["train_loss"], runs["seed"](), rtol=1e-5)
    print(
        f"n={n:,} {device}, {epochs} full-batch epochs, whole call from a Dataset (median of {repeats}, interleaved): "
        f"seed {med['seed'] * 1e3:.1f} ms | ours {med['ours'] * 1e3:.1f} ms | ratio seed/ours {med['seed'] / med['ours']:.1f} | "
        f"same trajectory: {same} | ours with z-scores and a 20% test split {med['ours, z-scores + 20% test'] * 1e3:.1f} ms"
    )
    print(
        f"n={n:,} {device}: setup (train() with 1 epoch) {med['setup'] * 1e3:.2f} ms | one pass over X and y "
        f"{med['one pass'] * 1e3:.2f} ms | setup / one pass {med['setup'] / med['one pass']:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats of the whole-call figures")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}")
    case(1_000, 5_000, args.device)
    case(1_000_000, 100, args.device)
    whole_call(1_000_000, 200, args.device, args.repeats)
    if args.device == "cuda":
        case(100_000_000, 10, args.device)


if __name__ == "__main__":
    main()
