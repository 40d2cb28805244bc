"""A trained model's weights: as a safetensors file other tools can load, and a numpy forward pass so the
server (which never imports torch) can answer the predict form for any model."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

MAX_SERVED_PARAMS = 1_000_000  # bigger models are not copied to the server for the predict form (4 MB as float32)


def safetensors_file(result: Any) -> bytes:
    """The state dict as safetensors, with the features, scaling and config as string metadata (safetensors
    stores tensors and str → str only; there is nothing to unpickle)."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
    scaler = result.scaler
    metadata = {
        "features": json.dumps(list(result.features)),
        "target": result.target,
        "x_mean": json.dumps(np.asarray(scaler.x_mean, dtype=float).tolist()),
        "x_std": json.dumps(np.asarray(scaler.x_std, dtype=float).tolist()),
        "y_mean": repr(float(scaler.y_mean)),
        "y_std": repr(float(scaler.y_std)),
        "config": json.dumps(result.config),
    }
    return save(state, metadata=metadata)


def served_weights(result: Any) -> dict[str, np.ndarray] | None:
    """The state dict as float64 numpy arrays, for forward(); None when the model is too big to hand over."""
    state = result.model.state_dict()
    if sum(v.numel() for v in state.values()) > MAX_SERVED_PARAMS:
        return None
    return {k: v.detach().cpu().double().numpy() for k, v in state.items()}


def _gelu(z: np.ndarray) -> np.ndarray:
    return 0.5 * z * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))  # nn.GELU's exact (erf) form


ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "gelu": _gelu}


def forward(weights: dict[str, np.ndarray], X: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """ŷ for rows X in training units: the linear model (weight, bias) or the MLP (net.<i>.weight/bias, an
    activation between layers), the same maths as core.models without torch."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if "weight" in weights:
        return X @ weights["weight"] + weights["bias"]
    layers = sorted({int(k.split(".")[1]) for k in weights}, key=int)
    h = X
    for i, layer in enumerate(layers):
        h = h @ weights[f"net.{layer}.weight"].T + weights[f"net.{layer}.bias"]
        if i < len(layers) - 1:
            h = ACTIVATIONS[activation](h)
    return h[:, 0]
