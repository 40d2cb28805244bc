"""Training configuration. Torch-free, so the server can build and validate it without importing torch."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

Model = Literal["linear"]
Optimizer = Literal["sgd", "adam"]
Loss = Literal["mse"]
Init = Literal["zeros", "random"]
Device = Literal["auto", "cpu", "cuda", "mps"]

MODELS: tuple[str, ...] = Model.__args__
OPTIMIZERS: tuple[str, ...] = Optimizer.__args__
LOSSES: tuple[str, ...] = Loss.__args__
INITS: tuple[str, ...] = Init.__args__
DEVICES: tuple[str, ...] = Device.__args__

MAX_EPOCHS = 1_000_000


class ConfigError(ValueError):
    """A setting a person has to change; the message names it and the allowed range."""


@dataclass(frozen=True)
class TrainConfig:
    model: Model = "linear"  # the seed's nn.Linear
    optimizer: Optimizer = "sgd"  # the seed's torch.optim.SGD
    lr: float = 0.01  # the seed's step size
    epochs: int = 100  # the seed's loop length
    batch_size: int | None = None  # None: full batch, one step per epoch, as in the seed
    loss: Loss = "mse"  # the seed's nn.MSELoss
    standardize: bool = True  # z-score X and y for training; results are reported in original units
    test_fraction: float = 0.2  # held out, never trained on
    init: Init = "zeros"  # zeros makes runs comparable with the hand-written maths
    device: Device = "auto"  # auto: cuda, then mps, then cpu
    seed: int = 0  # same seed, same device: same run

    def validate(self) -> TrainConfig:
        choices = {"model": MODELS, "optimizer": OPTIMIZERS, "loss": LOSSES, "init": INITS, "device": DEVICES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}.")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"The learning rate must be a positive number; got {self.lr!r}.")
        if not (isinstance(self.epochs, int) and 1 <= self.epochs <= MAX_EPOCHS):
            raise ConfigError(f"epochs must be a whole number from 1 to {MAX_EPOCHS:,}; got {self.epochs!r}.")
        if self.batch_size is not None and not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ConfigError(f"batch_size must be a positive whole number, or empty for full batch; got {self.batch_size!r}.")
        if not 0.0 <= self.test_fraction <= 0.9:
            raise ConfigError(f"test_fraction must be between 0 and 0.9; got {self.test_fraction!r}.")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        return cls(**d)
