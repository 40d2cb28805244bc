"""The Train page's settings: every TrainConfig field as a widget, grouped, and back into a TrainConfig."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields

import streamlit as st

from core.i18n import N_, Message, _
from core.training import ConfigError, TrainConfig, config

DEFAULT = TrainConfig()
PREFIX = "train_"  # widget keys are PREFIX + field name
MORE = "train_more"  # the "More settings" expander's key: session state says whether it is open
SETTINGS = "train_settings"  # dict: every setting as its widget holds it, kept while another page is on screen
DEVICE_NAMES = {"cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}
# what a setting's choice reads as; the value (config.OPTIMIZERS, …) stays the code's. Names (sgd, adam, tanh, cuda…) as they are
OPTIONS = {
    "momentum": N_("momentum"),
    "auto": N_("auto"),
    "linear": N_("linear"),
    "mlp": N_("mlp"),
    "mse": N_("mse"),
    "mae": N_("mae"),
    "huber": N_("huber"),
    "constant": N_("constant"),
    "step": N_("step"),
    "cosine": N_("cosine"),
    "exponential": N_("exponential"),
    "warmup": N_("warmup"),
    "zeros": N_("zeros"),
    "random": N_("random"),
    "given": N_("given"),
}
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


def _shown(name: str) -> object:
    """A number widget's value= is its current setting, not Streamlit's default (min_value): a click in the page's first
    tenth of a second ("More settings") can make the browser send a widget's default before it has drawn the setting,
    which set Learning rate and Epochs to 0 (2 of 12 tries, benchmarks-style script); now it sends the setting."""
    return st.session_state.get(_key(name), widget_values(DEFAULT)[name])


def keep(names: Iterable[str]) -> None:
    """For settings whose widgets this run will not draw (the closed "More settings" expander): Streamlit forgets a
    widget's value at the end of such a run, and its key then shows an older one; saving the value again keeps it.
    Never for a drawn widget: setting its key would overwrite what the user may be typing into it."""
    for name in names:
        if _key(name) in st.session_state:
            st.session_state[_key(name)] = st.session_state[_key(name)]


def option(value: str) -> str:
    """A choice as the reader's language shows it (format_func): the widget's value stays the code's word."""
    text = OPTIONS.get(value)
    return _(text) if text else value


def _tuple(text: str, kind: type, what: Message) -> tuple | None:
    text = text.strip()
    if not text:
        return None
    try:
        return tuple(kind(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise ConfigError("{what} must be numbers separated by commas, e.g. 16, 16; got {text}.", what=what, text=repr(text)) from None


def config_from_widgets(standardize: bool, test_fraction: float) -> TrainConfig:
    """The current widgets as a TrainConfig, not yet validated: JobManager.submit, where a config enters the job
    system, validates it. A ConfigError here says which text setting does not parse."""
    v = {f.name: st.session_state.get(_key(f.name), getattr(DEFAULT, f.name)) for f in fields(TrainConfig)}
    v.update(
        hidden=_tuple(v["hidden"], int, Message("Hidden layers")) or DEFAULT.hidden,
        init_params=_tuple(v["init_params"], float, Message("The start point")),
        batch_size=int(v["batch_size"]) or None,
        grad_clip=float(v["grad_clip"]) or None,
        early_stopping=int(v["early_stopping"]) or None,
        epochs=int(v["epochs"]),
        lr=float(v["lr"]),
        standardize=standardize,
        test_fraction=test_fraction,
    )
    return TrainConfig(**v)


def problem(standardize: bool, test_fraction: float) -> str | None:
    """What is wrong with the settings on screen, shown beside a disabled Train button; None when nothing is."""
    try:
        config_from_widgets(standardize, test_fraction).validate()
    except ConfigError as e:
        return str(e)
    return None


def render(disabled: bool, devices: Sequence[str] | None = None) -> None:
    """All the settings; the four that matter most in one row, the rest grouped underneath.

    devices: those this server's workers can use (JobManager.devices()); None while no worker has said: all.
    Streamlit forgets a widget's value once a run of another page has not drawn it, so a copy (SETTINGS) outlives the
    visit elsewhere and fills the widgets again on the way back, as the first visit fills them with the defaults."""
    if _key("lr") not in st.session_state:
        for name, value in st.session_state.get(SETTINGS, widget_values(DEFAULT)).items():
            st.session_state[_key(name)] = value
    _render(disabled, devices)
    st.session_state[SETTINGS] = {name: st.session_state[_key(name)] for name in widget_values(DEFAULT) if _key(name) in st.session_state}


def _render(disabled: bool, devices: Sequence[str] | None) -> None:
    devices = list(devices or config.DEVICES)
    absent = [d for d in config.DEVICES if d not in devices]
    if st.session_state.get(_key("device")) not in devices:  # e.g. "cuda" from a run on another server
        st.session_state[_key("device")] = "auto"
    optimizer_col, lr_col, epochs_col, device_col = st.columns(4)
    optimizer_col.selectbox(_("Optimizer"), config.OPTIMIZERS, format_func=option, key=_key("optimizer"), disabled=disabled)
    lr_col.number_input(_("Learning rate"), min_value=0.0, step=0.01, format="%g", value=_shown("lr"), key=_key("lr"), disabled=disabled)
    epochs_col.number_input(_("Epochs"), min_value=0, step=100, value=_shown("epochs"), key=_key("epochs"), disabled=disabled)
    device_col.selectbox(
        _("Device"), devices, format_func=option, key=_key("device"), disabled=disabled,
        help=_("auto: CUDA if usable, then Apple MPS, then CPU.")
        + "".join(_(" {device}: not offered, this server's torch sees no {name}.", device=d, name=DEVICE_NAMES[d]) for d in absent),
    )  # fmt: skip

    with st.expander(_("More settings: model, loss, optimizer details, schedule, stopping"), key=MORE, on_change="rerun") as more:
        if not more.open:  # drawn once opened: its 18 widgets, hidden, cost the page's first paint ~0.5 s in the browser
            keep(name for name in widget_values(DEFAULT) if name not in TOP_ROW)
            return
        model_col, hidden_col, activation_col, loss_col = st.columns(4)
        model_col.selectbox(_("Model"), config.MODELS, format_func=option, key=_key("model"), disabled=disabled,
                            help=_("linear: the seed's nn.Linear; mlp: a small neural network"))  # fmt: skip
        hidden_col.text_input(
            _("Hidden layers (mlp)"), key=_key("hidden"), disabled=disabled, help=_("Widths, comma-separated, e.g. 16, 16")
        )
        activation_col.selectbox(_("Activation (mlp)"), config.ACTIVATIONS, key=_key("activation"), disabled=disabled)
        loss_col.selectbox(_("Loss"), config.LOSSES, format_func=option, key=_key("loss"), disabled=disabled,
                           help=_("mse: the seed's; mae and huber shrug off outliers"))  # fmt: skip

        momentum_col, decay_col, clip_col, batch_col = st.columns(4)
        if st.session_state.get(_key("optimizer")) in config.MOMENTUM_OPTIMIZERS:
            momentum_col.number_input(_("Momentum"), min_value=0.0, max_value=0.999, step=0.05, value=_shown("momentum"),
                                      key=_key("momentum"), disabled=disabled)  # fmt: skip
        else:  # plain SGD, Adam and the rest take no momentum setting: none is shown, the value waits for those that do
            keep(["momentum"])
            momentum_col.caption(_("Momentum: only for the momentum and nesterov optimizers."))
        decay_col.number_input(
            _("Weight decay"),
            min_value=0.0,
            step=0.001,
            format="%g",
            value=_shown("weight_decay"),
            key=_key("weight_decay"),
            disabled=disabled,
        )
        clip_col.number_input(
            _("Clip gradient norm (0 = off)"),
            min_value=0.0,
            step=0.5,
            format="%g",
            value=_shown("grad_clip"),
            key=_key("grad_clip"),
            disabled=disabled,
        )
        batch_col.number_input(
            _("Batch size (0 = full batch)"), min_value=0, step=32, value=_shown("batch_size"), key=_key("batch_size"), disabled=disabled
        )

        schedule_col, step_col, gamma_col, warmup_col = st.columns(4)
        schedule_col.selectbox(_("LR schedule"), config.SCHEDULES, format_func=option, key=_key("schedule"), disabled=disabled)
        step_col.number_input(
            _("Step size (epochs)"),
            min_value=1,
            value=_shown("step_size"),
            key=_key("step_size"),
            disabled=disabled,
            help=_("step schedule"),
        )
        gamma_col.number_input(
            _("Decay factor γ"), min_value=0.01, max_value=1.0, step=0.05, value=_shown("gamma"), key=_key("gamma"), disabled=disabled
        )
        warmup_col.number_input(
            _("Warmup epochs"), min_value=1, value=_shown("warmup_epochs"), key=_key("warmup_epochs"), disabled=disabled
        )

        patience_col, init_col, init_params_col, seed_col = st.columns(4)
        patience_col.number_input(_("Early stopping patience (0 = off)"), min_value=0, value=_shown("early_stopping"),
                                  key=_key("early_stopping"), disabled=disabled,
                                  help=_("Stop when the test loss has not improved for this many epochs"))  # fmt: skip
        init_col.selectbox(_("Start point"), config.INITS, format_func=option, key=_key("init"), disabled=disabled,
                           help=_("zeros: as in the lessons; given: the numbers on the right"))  # fmt: skip
        init_params_col.text_input(_("Given start (w₁, …, b), training units"), key=_key("init_params"), disabled=disabled)
        seed_col.number_input(_("Seed"), min_value=0, step=1, value=_shown("seed"), key=_key("seed"), disabled=disabled)

        compile_col, bf16_col, _rest = st.columns([1, 2, 1])  # bf16's label is long in Chinese
        compile_col.checkbox("torch.compile", key=_key("compile"), disabled=disabled, help=_("Seconds of compile time; no gain on a CPU"))
        bf16_col.checkbox(_("bf16 autocast (CUDA, mlp)"), key=_key("bf16"), disabled=disabled)
