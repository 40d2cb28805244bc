"""The one training loop: data moved to the device once, per-epoch record kept there, flushed in chunks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.config import ConfigError, TrainConfig
from core.data import Dataset, Scaler, split

__all__ = ["ConfigError", "TrainConfig", "TrainResult", "resolve_device", "train"]

DIVERGE_FACTOR = 1e6  # a loss this many times its first value counts as diverged
SYNC_EVERY = 64  # epochs between host syncs on an accelerator; the CPU syncs for free every epoch


@dataclass
class TrainResult:
    history: pd.DataFrame  # epoch, train_loss, test_loss (MSE in the target's original units²)
    coef: dict[str, float]  # original units, even when trained standardized
    intercept: float
    status: str  # "completed" | "stopped" | "diverged"
    device: str
    reason: str = ""  # why it stopped or diverged, in words
    elapsed_s: float = 0.0
    config: dict = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was chosen but this torch cannot use a CUDA GPU; choose auto or cpu.")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was chosen but Apple's MPS is not available here; choose auto or cpu.")
    return torch.device("cuda:0" if name == "cuda" else name)


def train(
    ds: Dataset,
    cfg: TrainConfig,
    on_epoch: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train cfg.model on ds. on_epoch gets {"epoch", "train_loss", "test_loss"} for every epoch, in order."""
    cfg.validate()
    t0 = time.perf_counter()
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)

    X, y = ds.X.to_numpy(dtype=np.float64), ds.y.to_numpy(dtype=np.float64)
    train_idx, test_idx = split(len(y), cfg.test_fraction, cfg.seed)
    scaler = Scaler.fit(X[train_idx], y[train_idx]) if cfg.standardize else Scaler.identity(X.shape[1])
    Xs, ys = scaler.transform(X, y)

    def to_device(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32).to(device)

    X_train, y_train = to_device(Xs[train_idx]), to_device(ys[train_idx])
    X_test, y_test = to_device(Xs[test_idx]), to_device(ys[test_idx])
    n_train = len(train_idx)

    model = nn.Linear(X.shape[1], 1).to(device)
    if cfg.init == "zeros":
        with torch.no_grad():
            model.weight.zero_()
            model.bias.zero_()
    opt_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[cfg.optimizer]
    optimizer = opt_cls(model.parameters(), lr=cfg.lr)
    loss_fn = nn.MSELoss()
    to_original_units = scaler.y_std**2  # MSE of the standardized target × σ_y² = MSE in original units
    batch_size = cfg.batch_size or n_train
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    sync_every = 1 if device.type == "cpu" else SYNC_EVERY

    rows: list[dict] = []
    pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    status, reason = "completed", ""
    first_loss: float | None = None

    def flush() -> str:
        """Bring pending epochs to the host; return a divergence reason, or ""."""
        nonlocal first_loss
        if not pending:
            return ""
        values = torch.stack([torch.stack((tr, te)) for _, tr, te in pending]).tolist()  # host sync
        epochs = [e for e, _, _ in pending]
        pending.clear()
        for epoch, (tr, te) in zip(epochs, values):
            row = {"epoch": epoch, "train_loss": tr * to_original_units, "test_loss": te * to_original_units if len(test_idx) else None}
            rows.append(row)
            if on_epoch:
                on_epoch(row)
            first_loss = row["train_loss"] if first_loss is None else first_loss
            if not math.isfinite(tr) or (first_loss > 0 and row["train_loss"] > DIVERGE_FACTOR * first_loss):
                return (
                    f"The loss {'became NaN/inf' if not math.isfinite(tr) else 'grew a million-fold'} at epoch {epoch} "
                    f"with learning rate {cfg.lr:g}: the steps overshoot. Lower the learning rate (try {cfg.lr / 10:g})."
                )
        return ""

    for epoch in range(1, cfg.epochs + 1):
        if should_stop is not None and should_stop():
            status, reason = "stopped", f"Stopped by request after {epoch - 1} of {cfg.epochs} epochs."
            break
        if batch_size >= n_train:
            batches = [None]
        else:
            batches = torch.randperm(n_train, device=device, generator=gen).split(batch_size)
        total = torch.zeros((), device=device)
        for idx in batches:
            xb, yb = (X_train, y_train) if idx is None else (X_train[idx], y_train[idx])
            loss = loss_fn(model(xb).squeeze(-1), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(yb)
        with torch.no_grad():
            test_loss = loss_fn(model(X_test).squeeze(-1), y_test) if len(test_idx) else torch.zeros((), device=device)
        pending.append((epoch, total / n_train, test_loss))
        if len(pending) >= sync_every or epoch == cfg.epochs:
            reason = flush()
            if reason:
                status = "diverged"
                break
    tail = flush()  # epochs still pending after a stop
    if tail:
        status, reason = "diverged", tail

    w = model.weight.detach().cpu().double().numpy().ravel()
    b = float(model.bias.detach().cpu())
    coef, intercept = scaler.to_original(w, b)
    return TrainResult(
        history=pd.DataFrame(rows, columns=["epoch", "train_loss", "test_loss"]),
        coef=dict(zip(ds.features, map(float, coef))),
        intercept=intercept,
        status=status,
        device=str(device),
        reason=reason,
        elapsed_s=time.perf_counter() - t0,
        config=cfg.to_dict(),
    )
