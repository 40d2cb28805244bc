"""What a run can be taken away as: its history as CSV, and a standalone plain-PyTorch script.

The script is the seed's program done right: the same split, scaling, start point, optimizer and batch
order as the app's trainer, so on a CPU it retraces the same losses; coefficients come back in original units.
"""

from __future__ import annotations

import json

import pandas as pd

from core.data.dataset import Dataset
from core.training.config import TrainConfig

EMBED_MAX_ROWS = 20_000  # larger data is written beside the script as data.csv

OPTIMIZER_CODE = {
    "sgd": "torch.optim.SGD(model.parameters(), lr={lr}, weight_decay={wd})",
    "momentum": "torch.optim.SGD(model.parameters(), lr={lr}, momentum={m}, weight_decay={wd})",
    "nesterov": "torch.optim.SGD(model.parameters(), lr={lr}, momentum={m}, nesterov=True, weight_decay={wd})",
    "adam": "torch.optim.Adam(model.parameters(), lr={lr}, weight_decay={wd})",
    "adamw": "torch.optim.AdamW(model.parameters(), lr={lr}, weight_decay={wd})",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr={lr}, weight_decay={wd})",
    "adagrad": "torch.optim.Adagrad(model.parameters(), lr={lr}, weight_decay={wd})",
}
LOSS_CODE = {"mse": "nn.MSELoss()", "mae": "nn.L1Loss()", "huber": "nn.HuberLoss(delta={delta})"}
SCHEDULE_CODE = {
    "constant": "None",
    "step": "torch.optim.lr_scheduler.StepLR(optimizer, step_size={step_size}, gamma={gamma})",
    "exponential": "torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={gamma})",
    "cosine": "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={epochs})",
    "warmup": "torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: min(1.0, (e + 1) / {warmup_epochs}))",
}


def history_csv(history: dict[str, list]) -> str:
    return pd.DataFrame(dict(history)).to_csv(index=False)  # lists or a live record's numpy columns


def training_script(ds: Dataset, cfg: TrainConfig) -> str:
    """A runnable .py file that trains this config on this data with nothing but numpy, pandas and torch.

    Nothing a user typed becomes code: column names and data enter the script only as literals made by repr.
    """
    if len(ds) <= EMBED_MAX_ROWS:  # as a JSON text in a Python string literal: a column name can never become code
        data = json.dumps({name: ds.X[name].tolist() for name in ds.features} | {ds.target: ds.y.tolist()})
        data_code = f"DATA = {data!r}\ndf = pd.DataFrame(json.loads(DATA))"
    else:
        data_code = 'df = pd.read_csv("data.csv")  # download the history\'s data beside this script'
    if cfg.model == "linear":
        model_code = f"nn.Linear({len(ds.features)}, 1)"
    else:
        layers, width = [], len(ds.features)
        act = {"tanh": "nn.Tanh()", "relu": "nn.ReLU()", "gelu": "nn.GELU()"}[cfg.activation]
        for h in cfg.hidden:
            layers += [f"nn.Linear({width}, {h})", act]
            width = h
        model_code = f"nn.Sequential({', '.join([*layers, f'nn.Linear({width}, 1)'])})"
    if cfg.init == "zeros" and cfg.model == "linear":
        init_code = "nn.init.zeros_(model.weight)\nnn.init.zeros_(model.bias)"
    elif cfg.init == "given":
        *w, b = cfg.init_params
        init_code = f"model.weight.copy_(torch.tensor([{w!r}]))\nmodel.bias.fill_({b!r})"
    else:
        init_code = "pass  # PyTorch's default initialisation: the same distribution as the app's, not the same draw"
    fmt = {
        "lr": repr(cfg.lr), "m": repr(cfg.momentum), "wd": repr(cfg.weight_decay), "delta": repr(cfg.huber_delta),
        "step_size": cfg.step_size, "gamma": repr(cfg.gamma), "epochs": cfg.epochs, "warmup_epochs": cfg.warmup_epochs,
    }  # fmt: skip
    scale = "**2" if cfg.loss == "mse" else ""
    clip = f"\n        nn.utils.clip_grad_norm_(model.parameters(), {cfg.grad_clip!r})" if cfg.grad_clip else ""
    coef = (
        'coef = y_std * model.weight.detach().double().numpy().ravel() / x_std\n'
        'intercept = y_mean + y_std * model.bias.item() - coef @ x_mean\n'
        'for name, c in zip(FEATURES, coef):\n    print(f"coef {name} = {c:.10g}")\nprint(f"intercept = {intercept:.10g}")'
    ) if cfg.model == "linear" else 'print("an MLP has no coefficients to report")'  # fmt: skip
    return f'''"""Descent Lab run, as a standalone PyTorch script.

model={cfg.model} optimizer={cfg.optimizer} lr={cfg.lr:g} epochs={cfg.epochs} loss={cfg.loss} batch_size={cfg.batch_size or "full"}
standardize={cfg.standardize} test_fraction={cfg.test_fraction} seed={cfg.seed}
Run: python this_file.py   (needs numpy, pandas, torch)
"""

import json

import numpy as np
import json

import pandas as pd
import torch
from torch import nn

{data_code}
FEATURES, TARGET = {ds.features!r}, {ds.target!r}
X, y = df[FEATURES].to_numpy(dtype=np.float64), df[TARGET].to_numpy(dtype=np.float64)

# the same seeded split as the app: the test rows are never trained on
order = np.random.default_rng({cfg.seed}).permutation(len(y))
n_test = int(round(len(y) * {cfg.test_fraction!r}))
train_rows, test_rows = np.sort(order[n_test:]), np.sort(order[:n_test])

# z-score with the training rows' statistics, kept to map coefficients back to original units
if {cfg.standardize}:
    x_mean, x_std = X[train_rows].mean(0), X[train_rows].std(0)
    x_std[x_std == 0] = 1.0
    y_mean, y_std = y[train_rows].mean(), y[train_rows].std() or 1.0
else:
    x_mean, x_std, y_mean, y_std = np.zeros(X.shape[1]), np.ones(X.shape[1]), 0.0, 1.0
Xs = torch.tensor((X - x_mean) / x_std, dtype=torch.float32)
ys = torch.tensor((y - y_mean) / y_std, dtype=torch.float32)
X_train, y_train, X_test, y_test = Xs[train_rows], ys[train_rows], Xs[test_rows], ys[test_rows]

torch.manual_seed({cfg.seed})
model = {model_code}
with torch.no_grad():
{_indent(init_code)}
criterion = {LOSS_CODE[cfg.loss].format(**fmt)}
optimizer = {OPTIMIZER_CODE[cfg.optimizer].format(**fmt)}
schedule = {SCHEDULE_CODE[cfg.schedule].format(**fmt)}
generator = torch.Generator().manual_seed({cfg.seed})
batch_size = {cfg.batch_size or "len(y_train)"}

for epoch in range(1, {cfg.epochs} + 1):
    batches = [None] if batch_size >= len(y_train) else torch.randperm(len(y_train), generator=generator).split(batch_size)
    total = 0.0
    for idx in batches:
        xb, yb = (X_train, y_train) if idx is None else (X_train[idx], y_train[idx])
        loss = criterion(model(xb).squeeze(-1), yb)  # the loss before this step, as the seed prints it
        optimizer.zero_grad()
        loss.backward(){clip}
        optimizer.step()
        total += loss.item() * len(yb)
    if schedule is not None:
        schedule.step()
    with torch.no_grad():
        test = criterion(model(X_test).squeeze(-1), y_test).item() if len(test_rows) else float("nan")
    # losses in the target's original units, as the app shows them
    print(f"Epoch [{{epoch}}/{cfg.epochs}]  train loss {{total / len(y_train) * y_std{scale}:.6g}}  test loss {{test * y_std{scale}:.6g}}")

{coef}
'''


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.splitlines())
