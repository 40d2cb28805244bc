"""Our trainer against the seed document's loop on the same data and the same trajectory.

The seed's loop: nn.Linear + nn.MSELoss + torch.optim.SGD, full batch, loss.item() every epoch. Ours: the
same model, loss, optimizer and start point through core.training.train (standardize off, no test split,
so both see identical tensors). Also a plain hand-written gradient loop, the floor for this problem.

    .venv/bin/python benchmarks/trainer_vs_seed.py [--device cpu|cuda] [--threads N]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}")
    case(1_000, 5_000, args.device)
    case(1_000_000, 100, args.device)
    if args.device == "cuda":
        case(100_000_000, 10, args.device)


if __name__ == "__main__":
    main()
