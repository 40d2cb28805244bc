"""The Train page's settings: every TrainConfig field as a widget, grouped, and back into a TrainConfig."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

import streamlit as st

from core.training import ConfigError, TrainConfig, config

DEFAULT = TrainConfig()
PREFIX = "train_"  # widget keys are PREFIX + field name
MORE = "train_more"  # the "More settings" expander's key: session state says whether it is open
TOP_ROW = ("optimizer", "lr", "epochs", "device")  # the settings always on screen; the rest are under the expander


def _key(name: str) -> str:
    return PREFIX + name


def _text(values: tuple | None) -> str:
    return "" if values is None else ", ".join(f"{v:g}" for v in values)


def widget_values(cfg: TrainConfig) -> dict:
    """A config as widget state: optional numbers become 0 (= off) and tuples become text."""
    return {
        **{f.name: getattr(cfg, f.name) for f in fields(cfg)},
        "hidden": _text(cfg.hidden),
        "init_params": _text(cfg.init_params),
        "batch_size": cfg.batch_size or 0,
        "grad_clip": cfg.grad_clip or 0.0,
        "early_stopping": cfg.early_stopping or 0,
    }


def load(cfg: TrainConfig) -> None:
    """Put a config into the widgets (the seed example button, "open in Train" from the Runs page)."""
    for name, value in widget_values(cfg).items():
        st.session_state[_key(name)] = value


def keep(names: Iterable[str]) -> None:
    """For settings whose widgets this run will not draw (the closed "More settings" expander): Streamlit forgets a
    widget's value at the end of such a run, and its key then shows an older one; saving the value again keeps it.
    Never for a drawn widget: setting its key would overwrite what the user may be typing into it."""
    for name in names:
        if _key(name) in st.session_state:
            st.session_state[_key(name)] = st.session_state[_key(name)]


def _tuple(text: str, kind: type, what: str) -> tuple | None:
    text = text.strip()
    if not text:
        return None
    try:
        return tuple(kind(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{what} must be numbers separated by commas, e.g. 16, 16; got {text!r}.") from None


def config_from_widgets(standardize: bool, test_fraction: float) -> TrainConfig:
    """The current widgets as a validated TrainConfig; a ConfigError says which setting is wrong."""
    v = {f.name: st.session_state.get(_key(f.name), getattr(DEFAULT, f.name)) for f in fields(TrainConfig)}
    v.update(
        hidden=_tuple(v["hidden"], int, "Hidden layers") or DEFAULT.hidden,
        init_params=_tuple(v["init_params"], float, "The start point"),
        batch_size=int(v["batch_size"]) or None,
        grad_clip=float(v["grad_clip"]) or None,
        early_stopping=int(v["early_stopping"]) or None,
        epochs=int(v["epochs"]),
        lr=float(v["lr"]),
        standardize=standardize,
        test_fraction=test_fraction,
    )
    return TrainConfig(**v).validate()


def render(disabled: bool) -> None:
    """All the settings; the four that matter most in one row, the rest grouped underneath."""
    if _key("lr") not in st.session_state:
        load(DEFAULT)
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("Optimizer", config.OPTIMIZERS, key=_key("optimizer"), disabled=disabled)
    c2.number_input("Learning rate", min_value=0.0, step=0.01, format="%g", key=_key("lr"), disabled=disabled)
    c3.number_input("Epochs", min_value=0, step=100, key=_key("epochs"), disabled=disabled)
    c4.selectbox("Device", config.DEVICES, key=_key("device"), disabled=disabled, help="auto: CUDA if usable, then Apple MPS, then CPU.")

    with st.expander("More settings: model, loss, optimizer details, schedule, stopping", key=MORE, on_change="rerun") as more:
        if not more.open:  # drawn once opened: its 18 widgets, hidden, cost the page's first paint ~0.5 s in the browser
            keep(name for name in widget_values(DEFAULT) if name not in TOP_ROW)
            return
        m1, m2, m3, m4 = st.columns(4)
        m1.selectbox(
            "Model", config.MODELS, key=_key("model"), disabled=disabled, help="linear: the seed's nn.Linear; mlp: a small neural network"
        )
        m2.text_input("Hidden layers (mlp)", key=_key("hidden"), disabled=disabled, help="Widths, comma-separated, e.g. 16, 16")
        m3.selectbox("Activation (mlp)", config.ACTIVATIONS, key=_key("activation"), disabled=disabled)
        m4.selectbox("Loss", config.LOSSES, key=_key("loss"), disabled=disabled, help="mse: the seed's; mae and huber shrug off outliers")

        o1, o2, o3, o4 = st.columns(4)
        o1.number_input("Momentum", min_value=0.0, max_value=0.999, step=0.05, key=_key("momentum"), disabled=disabled,
                        help="momentum and nesterov only")  # fmt: skip
        o2.number_input("Weight decay", min_value=0.0, step=0.001, format="%g", key=_key("weight_decay"), disabled=disabled)
        o3.number_input("Clip gradient norm (0 = off)", min_value=0.0, step=0.5, format="%g", key=_key("grad_clip"), disabled=disabled)
        o4.number_input("Batch size (0 = full batch)", min_value=0, step=32, key=_key("batch_size"), disabled=disabled)

        s1, s2, s3, s4 = st.columns(4)
        s1.selectbox("LR schedule", config.SCHEDULES, key=_key("schedule"), disabled=disabled)
        s2.number_input("Step size (epochs)", min_value=1, key=_key("step_size"), disabled=disabled, help="step schedule")
        s3.number_input("Decay factor γ", min_value=0.01, max_value=1.0, step=0.05, key=_key("gamma"), disabled=disabled)
        s4.number_input("Warmup epochs", min_value=1, key=_key("warmup_epochs"), disabled=disabled)

        i1, i2, i3, i4 = st.columns(4)
        i1.number_input("Early stopping patience (0 = off)", min_value=0, key=_key("early_stopping"), disabled=disabled,
                        help="Stop when the test loss has not improved for this many epochs")  # fmt: skip
        i2.selectbox("Start point", config.INITS, key=_key("init"), disabled=disabled,
                     help="zeros: as in the lessons; given: the numbers on the right")  # fmt: skip
        i3.text_input("Given start (w₁, …, b), training units", key=_key("init_params"), disabled=disabled)
        i4.number_input("Seed", min_value=0, step=1, key=_key("seed"), disabled=disabled)

        t1, t2, _, _ = st.columns(4)
        t1.checkbox("torch.compile", key=_key("compile"), disabled=disabled, help="Seconds of compile time; no gain on a CPU")
        t2.checkbox("bf16 autocast (CUDA, mlp)", key=_key("bf16"), disabled=disabled)
