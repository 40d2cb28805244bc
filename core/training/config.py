"""Training configuration. Torch-free, so the server can build and validate it without importing torch."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from core.i18n import LocalizedError

Model = Literal["linear", "mlp"]
Activation = Literal["tanh", "relu", "gelu"]
Optimizer = Literal["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"]
Loss = Literal["mse", "mae", "huber"]
Schedule = Literal["constant", "step", "cosine", "exponential", "warmup"]
Init = Literal["zeros", "random", "given"]
Device = Literal["auto", "cpu", "cuda", "mps"]

MODELS: tuple[str, ...] = Model.__args__
ACTIVATIONS: tuple[str, ...] = Activation.__args__
OPTIMIZERS: tuple[str, ...] = Optimizer.__args__
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")  # the ones that read TrainConfig.momentum
LOSSES: tuple[str, ...] = Loss.__args__
SCHEDULES: tuple[str, ...] = Schedule.__args__
INITS: tuple[str, ...] = Init.__args__
DEVICES: tuple[str, ...] = Device.__args__

MAX_EPOCHS = int(os.environ.get("DESCENT_MAX_EPOCHS", 1_000_000))  # a hosted demo may cap it lower
MAX_HIDDEN_LAYERS = 8  # an MLP deeper than this teaches nothing here and only costs the shared workers
MAX_WIDTH = 4096  # units per hidden layer
MAX_SEED = 2**32 - 1  # torch, numpy and the exported script all take it


class ConfigError(LocalizedError, ValueError):
    """A setting a person has to change; the message names it and the allowed range, in the reader's language."""


@dataclass(frozen=True)
class TrainConfig:
    model: Model = "linear"  # the seed's nn.Linear; "mlp" is a small multilayer perceptron
    hidden: tuple[int, ...] = (16, 16)  # mlp only: hidden layer widths
    activation: Activation = "tanh"  # mlp only
    optimizer: Optimizer = "sgd"  # the seed's torch.optim.SGD
    lr: float = 0.01  # the seed's step size
    momentum: float = 0.9  # momentum and nesterov only
    epochs: int = 100  # the seed's loop length
    batch_size: int | None = None  # None: full batch, one step per epoch, as in the seed
    loss: Loss = "mse"  # the seed's nn.MSELoss
    huber_delta: float = 1.0  # huber only, in training units
    weight_decay: float = 0.0  # L2 penalty, as torch.optim applies it (decoupled for adamw)
    grad_clip: float | None = None  # clip the gradient's norm to this; None: no clipping
    schedule: Schedule = "constant"  # learning-rate schedule, stepped once per epoch
    step_size: int = 100  # step: epochs between decays
    gamma: float = 0.5  # step and exponential: decay factor
    warmup_epochs: int = 10  # warmup: linear ramp from lr/warmup_epochs to lr, then constant
    early_stopping: int | None = None  # stop when the test loss has not improved for this many epochs
    standardize: bool = True  # z-score X and y for training; results are reported in original units
    test_fraction: float = 0.2  # held out, never trained on
    init: Init = "zeros"  # zeros makes runs comparable with the hand-written maths
    init_params: tuple[float, ...] | None = None  # init="given": (w₁, …, w_d, b) in training units
    device: Device = "auto"  # auto: cuda, then mps, then cpu
    compile: bool = False  # torch.compile the model: costs seconds of compile time, gains nothing on CPU
    bf16: bool = False  # bf16 autocast on CUDA (mlp only; the linear model's maths is exact fp32)
    seed: int = 0  # same seed, same device: same run

    def validate(self) -> TrainConfig:
        choices = {
            "model": MODELS,
            "activation": ACTIVATIONS,
            "optimizer": OPTIMIZERS,
            "loss": LOSSES,
            "schedule": SCHEDULES,
            "init": INITS,
            "device": DEVICES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    "{name} must be one of {allowed}; got {value}.", name=name, allowed=", ".join(allowed), value=repr(getattr(self, name))
                )
        if not (_number(self.lr) and self.lr > 0):
            raise ConfigError("The learning rate must be a positive number; got {value}.", value=repr(self.lr))
        if not (isinstance(self.epochs, int) and 1 <= self.epochs <= MAX_EPOCHS):
            raise ConfigError("epochs must be a whole number from 1 to {max:,}; got {value}.", max=MAX_EPOCHS, value=repr(self.epochs))
        if self.batch_size is not None and not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ConfigError(
                "batch_size must be a positive whole number, or empty for full batch; got {value}.", value=repr(self.batch_size)
            )
        if not (_number(self.test_fraction) and 0.0 <= self.test_fraction <= 0.9):
            raise ConfigError("test_fraction must be between 0 and 0.9; got {value}.", value=repr(self.test_fraction))
        if not (_number(self.momentum) and 0.0 <= self.momentum < 1.0):
            raise ConfigError("momentum must be in [0, 1); got {value}.", value=repr(self.momentum))
        if not (_number(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError("weight_decay must be 0 or more; got {value}.", value=repr(self.weight_decay))
        if self.grad_clip is not None and not (_number(self.grad_clip) and self.grad_clip > 0):
            raise ConfigError("grad_clip must be a positive number, or empty for no clipping; got {value}.", value=repr(self.grad_clip))
        if not (_number(self.huber_delta) and self.huber_delta > 0):
            raise ConfigError("huber_delta must be positive; got {value}.", value=repr(self.huber_delta))
        if not (_number(self.gamma) and 0 < self.gamma <= 1):
            raise ConfigError("gamma (the decay factor) must be in (0, 1]; got {value}.", value=repr(self.gamma))
        if not (
            isinstance(self.step_size, int) and self.step_size >= 1 and isinstance(self.warmup_epochs, int) and self.warmup_epochs >= 1
        ):
            raise ConfigError("step_size and warmup_epochs must be whole numbers of epochs, at least 1.")
        if self.early_stopping is not None:
            if not (isinstance(self.early_stopping, int) and self.early_stopping >= 1):
                raise ConfigError("early_stopping is a patience in epochs, at least 1; got {value}.", value=repr(self.early_stopping))
            if self.test_fraction == 0:
                raise ConfigError("Early stopping watches the test loss: set a test fraction above 0.")
        if self.model == "mlp" and not (
            self.hidden and len(self.hidden) <= MAX_HIDDEN_LAYERS and all(isinstance(h, int) and 1 <= h <= MAX_WIDTH for h in self.hidden)
        ):
            raise ConfigError(
                "hidden must list 1 to {layers} layers of 1 to {width:,} units, e.g. (16, 16); got {value}.",
                layers=MAX_HIDDEN_LAYERS,
                width=MAX_WIDTH,
                value=repr(self.hidden),
            )
        if not (isinstance(self.seed, int) and not isinstance(self.seed, bool) and 0 <= self.seed <= MAX_SEED):
            raise ConfigError("seed must be a whole number from 0 to {max:,}; got {value}.", max=MAX_SEED, value=repr(self.seed))
        if self.init == "given":
            if self.model != "linear":
                raise ConfigError("A given start point (init='given') is for the linear model only.")
            if not self.init_params or not all(_number(v) for v in self.init_params):
                raise ConfigError("init='given' needs init_params = (w₁, …, w_d, b) as finite numbers.")
        return self

    def memory_bytes(self, rows: int, features: int) -> int:
        """A generous estimate of what one training step holds, to refuse a run the worker cannot: the data as the
        trainer keeps it (float64 frame and array, float32 tensors), the parameters with their gradients and two
        optimizer moments, and one batch's activations kept for the backward pass and their gradients."""
        widths = [features, *(self.hidden if self.model == "mlp" else ()), 1]
        params = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        batch = min(self.batch_size or rows, rows)
        return rows * (features + 1) * (8 + 8 + 4) + params * 4 * 4 + batch * sum(widths[1:]) * 4 * 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError("Unknown setting(s): {names}.", names=", ".join(sorted(unknown)))
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}  # JSON gives lists
        return cls(**d)


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
