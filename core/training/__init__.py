"""Training: the validated config, the one loop (train), and what a finished run gives back.

`train` and `TrainResult` import torch, so they load on first use: the server imports this package for the
config and never pays for torch (the workers do).
"""

from typing import TYPE_CHECKING, Any

from core.training.config import MAX_EPOCHS, ConfigError, TrainConfig

if TYPE_CHECKING:
    from core.training.trainer import TrainResult, train

__all__ = ["MAX_EPOCHS", "ConfigError", "TrainConfig", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "TrainResult"):
        from core.training import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
