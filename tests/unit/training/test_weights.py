"""The model downloads load in plain torch/safetensors, and the server's numpy forward pass equals torch's."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load

from core.data import make_dataset
from core.training import TrainConfig, train
from core.training.weights import MAX_SERVED_PARAMS, forward, safetensors_file, served_weights


@pytest.fixture(scope="module")
def ds():
    return make_dataset("house_prices", n=200, seed=1)


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(epochs=30, lr=0.1),
        TrainConfig(model="mlp", hidden=(8, 4), activation="tanh", epochs=30, optimizer="adam", init="random"),
        TrainConfig(model="mlp", hidden=(6,), activation="relu", epochs=30, optimizer="adam", init="random"),
        TrainConfig(model="mlp", hidden=(5, 5), activation="gelu", epochs=30, optimizer="adam", init="random"),
    ],
    ids=["linear", "mlp-tanh", "mlp-relu", "mlp-gelu"],
)
def test_numpy_forward_predicts_what_torch_predicts(ds, cfg):
    result = train(ds, cfg)
    w = served_weights(result)
    s = result.scaler
    X = ds.X.to_numpy(dtype=float)
    ours = forward(w, (X - s.x_mean) / s.x_std, cfg.activation) * s.y_std + s.y_mean
    np.testing.assert_allclose(ours, result.predict(ds.X), rtol=1e-5, atol=1e-3)


def test_safetensors_file_loads_without_pickle_and_carries_the_scaling(ds, tmp_path):
    result = train(ds, TrainConfig(model="mlp", hidden=(4,), epochs=5, init="random"))
    blob = safetensors_file(result)
    tensors = load(blob)
    for k, v in result.model.state_dict().items():
        torch.testing.assert_close(tensors[k], v)
    path = tmp_path / "model.safetensors"
    path.write_bytes(blob)
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
    assert json.loads(meta["features"]) == ds.features
    assert meta["target"] == ds.target
    np.testing.assert_allclose(json.loads(meta["x_mean"]), result.scaler.x_mean)
    assert float(meta["y_std"]) == pytest.approx(result.scaler.y_std)
    assert json.loads(meta["config"])["hidden"] == [4]


def test_a_model_too_big_to_serve_is_not_copied(ds):
    result = train(ds, TrainConfig(model="mlp", hidden=(1100, 1000), epochs=1, device="cpu"))
    assert sum(v.numel() for v in result.model.state_dict().values()) > MAX_SERVED_PARAMS
    assert served_weights(result) is None
