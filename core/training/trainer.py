"""The one training loop: data moved to the device once, per-epoch record kept there, flushed in chunks."""

from __future__ import annotations

import inspect
import io
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from types import MethodType

import numpy as np
import pandas as pd
import torch

from core.data.dataset import Dataset
from core.data.preprocess import Scaler
from core.i18n import Message
from core.training.config import ConfigError, TrainConfig
from core.training.models import build, loss_and_grad, loss_value
from core.training.optimum import stable_lr, suggested_rate_and_epochs
from core.training.prepare import prepare
from core.training.shards import Rows

__all__ = ["ConfigError", "TrainConfig", "TrainResult", "resolve_device", "train"]

DIVERGE_FACTOR = 1e6  # a loss this many times its first value counts as diverged
SYNC_EVERY = 64  # at most this many epochs between host syncs on an accelerator; on the CPU reading a value costs nothing
FLUSH_S = 0.25  # and at most this long: slow epochs (large n, an MLP) still reach the chart, and a divergence is seen, soon
MAX_TRACKED_PARAMS = 3  # record every epoch's weights when the model has at most this many (lessons draw the path)


@dataclass
class TrainResult:
    rows: list[dict] = field(repr=False)  # every epoch's record, as on_epoch got it (see history)
    coef: dict[str, float]  # original units, even when trained standardized; empty for the MLP
    intercept: float
    status: str  # "completed" | "stopped" | "diverged"
    device: str
    reason: Message | str = ""  # why it stopped early or diverged, in the reader's language (str() it); "" when nothing to say
    elapsed_s: float = 0.0
    config: dict = field(default_factory=dict)
    params: list[float] = field(default_factory=list)  # final (w₁, …, w_d, b) in training units (linear only)
    model: torch.nn.Module | None = field(default=None, repr=False)  # on the CPU
    scaler: Scaler | None = field(default=None, repr=False)
    features: list[str] = field(default_factory=list)
    target: str = ""

    @cached_property
    def history(self) -> pd.DataFrame:
        """epoch, train_loss, test_loss, grad_norm, lr [, w:<feature>…, b]; losses in original units.

        Built on first use: ~1 µs an epoch (0.28 s for 290,000), which a worker that streamed the rows never needs."""
        return pd.DataFrame(self.rows)

    def predict(self, X: pd.DataFrame) -> list[float]:
        """Predictions in the target's original units, for rows in the features' original units."""
        Xs = (X[self.features].to_numpy(dtype=np.float64) - self.scaler.x_mean) / self.scaler.x_std
        with torch.no_grad():
            pred = self.model(torch.as_tensor(Xs, dtype=torch.float32)).double().numpy()
        return (pred * self.scaler.y_std + self.scaler.y_mean).tolist()

    def model_file(self) -> bytes:
        """The weights and everything needed to use them, as a torch.save file that loads with weights_only=True."""
        buffer = io.BytesIO()
        torch.save(
            {
                "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                "features": list(self.features),
                "target": self.target,
                "x_mean": torch.as_tensor(self.scaler.x_mean),
                "x_std": torch.as_tensor(self.scaler.x_std),
                "y_mean": self.scaler.y_mean,
                "y_std": self.scaler.y_std,
                "config": self.config,
            },
            buffer,
        )
        return buffer.getvalue()


@dataclass
class FlushClock:
    """When pending epochs go to the host: every `every` epochs or `seconds` of host time, whichever comes first.

    Reading the host's clock needs no device sync; the flush itself is the one sync."""

    every: int
    seconds: float
    clock: Callable[[], float] = time.monotonic
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def due(self, pending: int) -> bool:
        now = self.clock()
        if pending >= self.every or now - self.last >= self.seconds:
            self.last = now
            return True
        return False


def flush_clock(device: torch.device) -> FlushClock:
    return FlushClock(1 if device.type == "cpu" else SYNC_EVERY, FLUSH_S)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())  # the worker may have picked one
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was chosen but this torch cannot use a CUDA GPU; choose auto or cpu.")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was chosen but Apple's MPS is not available here; choose auto or cpu.")
    return torch.device("cuda", torch.cuda.current_device()) if name == "cuda" else torch.device(name)


def make_optimizer(cfg: TrainConfig, params: list[torch.nn.Parameter], device: torch.device) -> torch.optim.Optimizer:
    o, kw = cfg.optimizer, {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    # measured on a CPU, one step on the moments path's one 3-number tensor: the per-tensor loop beats foreach and
    # fused for SGD (3.0 vs 7.6 vs 7.4 µs) and fused Adam beats the loop (17 vs 26 µs); on a GPU, fused/foreach win.
    if o in ("adam", "adamw") or device.type == "cuda":
        kw["fused" if o in ("sgd", "momentum", "nesterov", "adam", "adamw") else "foreach"] = True
    else:
        kw["foreach"] = False
    if o == "sgd":
        return torch.optim.SGD(params, **kw)
    if o in ("momentum", "nesterov"):
        return torch.optim.SGD(params, momentum=cfg.momentum, nesterov=o == "nesterov", **kw)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}[o]
    return cls(params, **kw)


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Epoch epoch's learning rate (from 1). The same values as torch.optim.lr_scheduler's StepLR, ExponentialLR,
    CosineAnnealingLR(T_max=epochs) and LambdaLR warmup stepped once an epoch, but in closed form: setting it costs
    nothing where a scheduler's step() costs ~10 µs, as much as a whole epoch of the seed's problem."""
    e = epoch - 1  # scheduler steps taken before this epoch
    if cfg.schedule == "step":
        return cfg.lr * cfg.gamma ** (e // cfg.step_size)
    if cfg.schedule == "exponential":
        return cfg.lr * cfg.gamma**e
    if cfg.schedule == "cosine":
        return cfg.lr * (1 + math.cos(math.pi * e / cfg.epochs)) / 2
    if cfg.schedule == "warmup":
        return cfg.lr * min(1.0, (e + 1) / cfg.warmup_epochs)
    return cfg.lr


def train(
    ds: Dataset,
    cfg: TrainConfig,
    on_epoch: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    rows: Rows | None = None,
) -> TrainResult:
    """Train cfg.model on ds. on_epoch gets every epoch's row, in order (on a GPU in chunks: see FlushClock).

    Under torchrun, rows says which rows of the whole ds holds (this rank's shard: core.training.shards); without
    it every rank holds the whole and trains on every world-th training row."""
    cfg.validate()
    t0 = time.perf_counter()
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)

    n_features = len(ds.features)
    if cfg.init == "given" and len(cfg.init_params) != n_features + 1:
        raise ConfigError(
            "init_params needs {n} numbers (a weight per feature, then the bias); got {got}.", n=n_features + 1, got=len(cfg.init_params)
        )
    rank, world = _world()  # under torchrun: this process trains on its own rows (rows), or every world-th training row
    data = prepare(ds, cfg, device, rank, world, rows)
    scaler, n_train, has_test = data.scaler, data.n_train, data.n_test > 0
    train_moments, test_moments = data.train_moments, data.test_moments
    X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
    sharded = data.sharded
    X_shard, y_shard = (X_train, y_train) if world == 1 or X_train is None or sharded else (X_train[rank::world], y_train[rank::world])
    if sharded and y_train is not None:  # this rank's training rows are the training rows [mine_lo, mine_hi) of every rank's
        mine_lo = data.train_start
        mine_hi = mine_lo + len(y_train)

    model = build(cfg.model, n_features, cfg.hidden, cfg.activation).to(device)
    model.init_(cfg.init, gen, cfg.init_params)
    # under torchrun an autograd model trains inside DistributedDataParallel, which all-reduces its gradients in
    # buckets as backward runs; the linear model's hand-written gradient bypasses autograd and is reduced below
    ddp = world > 1 and model.uses_autograd
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=None if device.type == "cpu" else [device]) if ddp else model
    forward = torch.compile(net) if cfg.compile else net
    theta = None  # the moments path trains one flat θ = (w, b): one tensor for the optimizer, written back at the end
    if train_moments is not None:
        theta = torch.cat((model.weight.detach(), model.bias.detach()[None]))
        theta.grad = torch.zeros_like(theta)
    params = [theta] if theta is not None else list(model.parameters())
    optimizer = make_optimizer(cfg, params, device)
    # optimizer.step() wraps the update in a profiler range, hook calls and a grad-mode switch: ~10 µs on a CPU,
    # 3× SGD's update of three numbers. The linear model trains under no_grad and registers no hooks: it calls
    # the optimizer's own step() directly.
    step = optimizer.step if model.uses_autograd else MethodType(inspect.unwrap(type(optimizer).step), optimizer)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cfg.bf16 and device.type == "cuda" and cfg.model == "mlp" else nullcontext()
    track = cfg.model == "linear" and n_features + 1 <= MAX_TRACKED_PARAMS
    param_names = [f"w:{f}" for f in ds.features] + ["b"] if track else []
    to_original = scaler.y_std**2 if cfg.loss == "mse" else scaler.y_std  # MSE scales with σ_y², MAE and Huber (≈) with σ_y
    batch_size = cfg.batch_size or n_train
    on_cpu = device.type == "cpu"
    flush_due = flush_clock(device)

    no_test = torch.zeros((), device=device)
    rows: list[dict] = []
    pending: list[tuple[int, float, torch.Tensor | list[float]]] = []  # (epoch, lr, [train, test, grad_norm, params…])
    first_loss: float | None = None
    best_test, best_epoch = math.inf, 0

    def flush() -> tuple[str, Message] | None:
        """Bring pending epochs to the host; return (status, reason) if the run must end now."""
        nonlocal first_loss, best_test, best_epoch
        if not pending:
            return None
        values = [v for _, _, v in pending] if on_cpu else torch.stack([v for _, _, v in pending]).tolist()  # the host sync
        meta = [(e, lr) for e, lr, _ in pending]
        pending.clear()
        for (epoch, lr), (tr, te, gnorm, *ps) in zip(meta, values):
            row = {
                "epoch": epoch,
                "train_loss": tr * to_original,
                "test_loss": te * to_original if has_test else None,
                "grad_norm": gnorm,
                "lr": lr,
            }
            row.update(zip(param_names, ps))
            rows.append(row)
            if on_epoch:
                on_epoch(row)
            first_loss = row["train_loss"] if first_loss is None else first_loss
            if not math.isfinite(tr) or (first_loss > 0 and row["train_loss"] > DIVERGE_FACTOR * first_loss):
                return "diverged", divergence_reason(epoch, tr, cfg, data.features_np)
            if cfg.early_stopping:
                if te < best_test:
                    best_test, best_epoch = te, epoch
                elif epoch - best_epoch >= cfg.early_stopping:
                    return "completed", Message(
                        "Early stopping at epoch {epoch:,}: the test loss has not improved for {patience:,} epochs "
                        "(best at epoch {best:,}).",
                        {"epoch": epoch, "patience": cfg.early_stopping, "best": best_epoch},
                    )
        return None

    def update(grad_norm: torch.Tensor) -> None:
        """Clip the gradient (grad_norm: its norm before clipping), then step."""
        if cfg.grad_clip is not None:  # torch.nn.utils.clip_grads_with_norm_'s rule, less its ~15 µs of bookkeeping
            scale = torch.clamp(cfg.grad_clip / (grad_norm + 1e-6), max=1.0)
            for p in params:
                p.grad.mul_(scale)
        step()

    status, reason = "completed", ""  # a Message once there is something to say
    grad_mode = torch.enable_grad() if model.uses_autograd else torch.no_grad()
    with grad_mode:
        for epoch in range(1, cfg.epochs + 1):
            if should_stop is not None and should_stop():
                status, reason = (
                    "stopped",
                    Message("Stopped by request after {done:,} of {total:,} epochs.", {"done": epoch - 1, "total": cfg.epochs}),
                )
                break
            lr = optimizer.param_groups[0]["lr"] = lr_at(cfg, epoch)
            if theta is not None:  # full-batch linear MSE: one step from the moments, O(d²) whatever n
                epoch_loss = train_moments.loss_and_grad(theta)
                grad_norm = torch.linalg.vector_norm(theta.grad)
                update(grad_norm)
                test = test_moments.loss(theta) if test_moments is not None else no_test
                weights = theta
            else:
                batches = [None] if batch_size >= n_train else torch.randperm(n_train, device=device, generator=gen).split(batch_size)
                total = 0.0
                for idx in batches:
                    if idx is None:
                        xb, yb, batch_rows = X_shard, y_shard, n_train
                    else:
                        batch_rows = len(idx)  # across every rank
                        if sharded:  # the batch's rows that this rank holds, as its own row numbers
                            idx = idx[(idx >= mine_lo) & (idx < mine_hi)] - mine_lo
                        elif world > 1:
                            idx = idx[rank::world]
                        xb, yb = X_train[idx], y_train[idx]
                    with autocast:
                        pred = forward(xb)
                    if len(yb):
                        loss, dpred = loss_and_grad(cfg.loss, pred.float(), yb, cfg.huber_delta)
                    else:  # sharded, and none of the batch's rows is this rank's: it adds nothing, yet DDP's backward runs on every rank
                        loss, dpred = no_test, torch.zeros_like(pred, dtype=torch.float32)
                    if ddp:  # DDP averages the ranks' gradients: weighed by their rows, the mean is one process's gradient
                        dpred = dpred * (len(yb) / batch_rows * world)
                    model.backward(xb, pred, dpred.to(pred.dtype))
                    if world > 1:  # the step's loss over every rank's rows (and, for the linear model, its gradient)
                        loss = _all_reduce_share(loss, len(yb) / batch_rows, [] if ddp else [p.grad for p in params])
                    grad_norm = model.grad_norm()
                    update(grad_norm)
                    total = loss if idx is None else total + loss * batch_rows
                epoch_loss = total if batches[0] is None else total / n_train
                with torch.no_grad(), autocast:
                    test = loss_value(cfg.loss, forward(X_test).float(), y_test, cfg.huber_delta) if has_test and len(y_test) else no_test
                if has_test and sharded:  # each rank holds some of the test rows: their mean, weighed by share
                    test = _all_reduce_share(test, len(y_test) / data.n_test, [])
                weights = torch.cat((model.weight.detach(), model.bias.detach()[None])) if track else None
            # grad_norm: the epoch's last step, before clipping
            if on_cpu:  # reading a number costs nothing here: no device-side record to build
                record = [epoch_loss.item(), test.item(), grad_norm.item(), *(weights.tolist() if track else ())]
            else:
                record = torch.stack((epoch_loss, test, grad_norm))
                if track:
                    record = torch.cat((record, weights))
            pending.append((epoch, lr, record))
            if flush_due.due(len(pending)) or epoch == cfg.epochs:
                if ended := flush():
                    status, reason = ended
                    break
    if ended := flush():  # epochs still pending after a stop request
        status, reason = ended
    if theta is not None:
        with torch.no_grad():
            model.weight.copy_(theta[:-1])
            model.bias.copy_(theta[-1])

    coef: dict[str, float] = {}
    intercept, final = math.nan, []
    if cfg.model == "linear":
        w = model.weight.detach().cpu().double().numpy()
        b = float(model.bias.detach().cpu())
        c, intercept = scaler.to_original(w, b)
        coef, final = dict(zip(ds.features, map(float, c))), [*map(float, w), b]
    return TrainResult(
        rows=rows,
        coef=coef,
        intercept=intercept,
        status=status,
        device=str(device),
        reason=reason,
        elapsed_s=time.perf_counter() - t0,
        config=cfg.to_dict(),
        params=final,
        model=model.cpu(),
        scaler=scaler,
        features=ds.features,
        target=ds.target,
    )


def _world() -> tuple[int, int]:
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _all_reduce_share(loss: torch.Tensor, share: float, grads: list[torch.Tensor]) -> torch.Tensor:
    """Each rank's loss (and gradients) weighed by its share of the step's rows, summed over ranks: every rank ends
    with the numbers one process computes over all the rows."""
    for g in grads:
        g.mul_(share)
        torch.distributed.all_reduce(g)
    loss = loss * share
    torch.distributed.all_reduce(loss)
    return loss


def divergence_reason(epoch: int, loss: float, cfg: TrainConfig, features: Callable[[], np.ndarray]) -> Message:
    """features: the training rows as the optimizer saw them, built only here (a diverged run's advice needs them).

    A Message, not text: the worker's reason is read on the page (or from the store) in the reader's language."""
    what = Message("became NaN/inf") if not math.isfinite(loss) else Message("grew a million-fold")
    said = {"what": what, "epoch": int(epoch), "lr": float(cfg.lr)}
    if cfg.model == "linear" and cfg.loss == "mse" and cfg.optimizer == "sgd":
        X = features()
        return Message(  # the rate it suggests is the one the Train page's button offers too
            "The loss {what} at epoch {epoch:,} with learning rate {lr:g}: the steps overshoot. For this data plain gradient "
            "descent is stable only below 2/λ_max = {bound:.3g} (λ_max: the largest eigenvalue of the loss's Hessian). "
            "Try {suggested:g}.",
            {**said, "bound": float(stable_lr(X)), "suggested": float(suggested_rate_and_epochs(X)[0])},
        )
    return Message(
        "The loss {what} at epoch {epoch:,} with learning rate {lr:g}: the steps overshoot. Lower the learning rate (try {lower:g}).",
        {**said, "lower": float(cfg.lr / 10)},
    )
