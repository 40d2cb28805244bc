"""Will it fit? A transformer's memory, part by part, against your GPU: for inference or for training."""

import pandas as pd
import streamlit as st

from core.fit import ArchSpec, MemoryConfigError, Workload, param_count, verdict
from core.fit.arch import GIB, MODE_LABELS, MODES, OPTIMIZER_LABELS, OPTIMIZERS, PARALLELISM_LABELS, QUANTIZED
from core.fit.figures import memory_figure
from core.fit.presets import DEFAULT_CARD, DEFAULT_MODEL, MODEL_PRESETS, card_choices, detected_cards
from core.fit.verdict import bars, explain, fix_rows
from core.i18n import N_, _
from ui.cache import environment_probe

CUSTOM = "Custom architecture…"  # the option's value; shown with _(CUSTOM_LABEL)
CUSTOM_LABEL = N_("Custom architecture…")
MLP_LABELS = {"gated": N_("gated"), "plain": N_("plain")}
# the tables' columns: English keys from core (tests and code read them), labelled in the reader's language
COLUMNS = {"change": N_("change"), "GiB per GPU": N_("GiB per GPU"), "part": N_("part"), "how": N_("how")}
TRAIN_DTYPES = ("bf16", "fp16", "fp32")  # mixed precision first: the usual choice
DTYPES_FOR = {"inference": ("bf16", "fp16", "fp32", "int8", "int4"), "full": TRAIN_DTYPES, "lora": TRAIN_DTYPES, "qlora": QUANTIZED}
PARALLELISMS_FOR = {"inference": ("tensor", "data"), "training": ("zero3", "zero2", "zero1", "tensor", "data")}


def detected_gpus() -> dict[str, int]:
    """Free bytes of each GPU the environment probe found; empty while it runs or when there is none (never waits)."""
    probe = environment_probe()
    return detected_cards(probe.result().gpus) if probe.done() else {}


def custom_arch() -> ArchSpec:
    base = MODEL_PRESETS[DEFAULT_MODEL].arch
    # three columns of fields, read row by row: layers, hidden, MLP size; heads, KV heads, vocabulary; MLP kind, tied
    depth_col, width_col, size_col = st.columns(3)
    layers = depth_col.number_input(_("Layers"), 1, 1000, base.layers, key="fit_layers")
    hidden = width_col.number_input(_("Hidden size"), 1, 100_000, base.hidden_size, step=128, key="fit_hidden")
    inter = size_col.number_input(_("Intermediate (MLP) size"), 1, 1_000_000, base.intermediate_size, step=128, key="fit_inter")
    heads = depth_col.number_input(_("Attention heads"), 1, 1024, base.heads, key="fit_heads")
    kv = width_col.number_input(
        _("KV heads (GQA)"), 1, 1024, base.kv_heads, key="fit_kv", help=_("Fewer KV heads than attention heads is GQA.")
    )
    vocab = size_col.number_input(_("Vocabulary"), 1, 2_000_000, base.vocab_size, key="fit_vocab")
    mlp = depth_col.selectbox(
        "MLP",
        ("gated", "plain"),
        format_func=lambda k: _(MLP_LABELS[k]),
        key="fit_mlp",
        help=_("gated: SwiGLU (Llama, Qwen, Mistral); plain: GELU (GPT-2)"),
    )
    tied = width_col.checkbox(_("Tied embeddings"), False, key="fit_tied", help=_("The output head reuses the input embedding."))
    return ArchSpec(int(layers), int(hidden), int(heads), int(kv), int(inter), int(vocab), tied_embeddings=tied, mlp=mlp)


def count(n: int) -> str:
    return f"{n / 1e9:.2f} B" if n >= 1e9 else f"{n / 1e6:,.1f} M"


def labelled(rows: list[dict]) -> pd.DataFrame:
    """A table from core's rows, its columns named in the reader's language."""
    return pd.DataFrame(rows).rename(columns=lambda c: _(COLUMNS[c]) if c in COLUMNS else c)


st.title(_("Will it fit?"))
st.caption(
    _(
        "How much GPU memory a transformer needs, part by part, for inference or for training, and what would make it fit. "
        "Offline: the architectures are built in or typed in, nothing is downloaded."
    )
)

# ---- the model ----
left, right = st.columns(2)
with left:
    name = st.selectbox(
        _("Model"),
        [*MODEL_PRESETS, CUSTOM],
        index=list(MODEL_PRESETS).index(DEFAULT_MODEL),
        format_func=lambda m: _(CUSTOM_LABEL) if m == CUSTOM else m,
        key="fit_model",
    )
    if name == CUSTOM:
        try:
            arch = custom_arch().validate()
        except MemoryConfigError as e:
            st.error(str(e))
            st.stop()
    else:
        preset = MODEL_PRESETS[name]
        arch = preset.arch
        st.caption(_("{params:.2f} B parameters · source: {source}", params=param_count(arch) / 1e9, source=_(preset.source)))
with right:
    mode = st.radio(_("Task"), MODES, format_func=lambda m: _(MODE_LABELS[m]), horizontal=True, key="fit_mode")
    dtype_col, training_col = st.columns(2)
    dtype = dtype_col.selectbox(
        _("Weights") if mode in ("inference", "qlora") else _("Precision"),
        DTYPES_FOR[mode],
        key=f"fit_dtype_{mode}",
        help=_("int8/int4 quantize the block linears (bitsandbytes); embeddings and head stay 16-bit."),
    )
    optimizer = "adamw"
    if mode == "full":
        optimizer = training_col.selectbox(_("Optimizer"), OPTIMIZERS, format_func=lambda o: _(OPTIMIZER_LABELS[o]), key="fit_optimizer")
    lora_rank = 16
    if mode in ("lora", "qlora"):
        lora_rank = int(
            training_col.number_input(_("LoRA rank"), 1, 1024, 16, key="fit_rank", help=_("Adapters on every linear of every block."))
        )

# ---- the work ----
seq_col, batch_col, checkpointing_col, attention_col = st.columns(4)
seq_len = int(seq_col.number_input(_("Sequence length (tokens)"), 1, 1_048_576, 4096, step=1024, key="fit_seq"))
batch = int(batch_col.number_input(_("Batch per GPU"), 1, 4096, 1, key="fit_batch"))
checkpointing = checkpointing_col.toggle(_("Activation checkpointing"), False, key="fit_ckpt", disabled=mode == "inference")
flash = attention_col.toggle("FlashAttention / SDPA", True, key="fit_flash", help=_("Off: eager attention keeps the s × s score matrix."))

# ---- the GPUs ----
gpus = detected_gpus()
cards = card_choices(gpus)
card_col, n_gpus_col, parallelism_col = st.columns([2, 1, 2])
default_card = 0 if gpus else list(cards).index(DEFAULT_CARD)
card = card_col.selectbox("GPU", list(cards), index=default_card, key="fit_gpu")
if not gpus:
    card_col.caption(_("No GPU detected here (or the probe is still running): pick the card you plan to use."))
n_gpus = int(n_gpus_col.number_input(_("GPUs"), 1, 1024, 1, key="fit_n_gpus"))
kind = "inference" if mode == "inference" else "training"
parallelism = parallelism_col.selectbox(
    _("Parallelism"),
    PARALLELISMS_FOR[kind],
    format_func=lambda p: _(PARALLELISM_LABELS[p]),
    key=f"fit_par_{kind}",
    disabled=n_gpus == 1,
)

try:
    wl = Workload(
        mode=mode,
        dtype=dtype,
        optimizer=optimizer,
        seq_len=seq_len,
        batch=batch,
        checkpointing=checkpointing and mode != "inference",
        flash_attention=flash,
        lora_rank=lora_rank,
        n_gpus=n_gpus,
        parallelism=parallelism if n_gpus > 1 else "data",
    )
    result = verdict(arch, wl, cards[card])
except MemoryConfigError as e:
    st.error(str(e))
    st.stop()

# ---- the answer ----
est = result.estimate
show = {"fits": st.success, "no": st.error}.get(result.kind, st.warning)
show(result.headline)

params_col, trainable_col, needed_col, capacity_col = st.columns(4)
params_col.metric(_("Parameters"), count(est.params))
trainable_col.metric(_("Trainable"), count(est.trainable_params) if wl.training else _("none"))
needed_col.metric(_("Needed per GPU"), f"{est.total_bytes / GIB:.1f} GiB")
capacity_col.metric(
    _("GPU memory"),
    f"{cards[card] / GIB:.1f} GiB",
    delta=_("{headroom:+.1f} GiB headroom", headroom=result.headroom_bytes / GIB),
    delta_color="normal",
)

st.plotly_chart(
    memory_figure(bars(arch, result), cards[card] / GIB, card.replace("，", ",").split(",")[0]),
    key="fit_chart",
    config={"displayModeBar": False},
)

if result.fixes:
    st.markdown(_("**What would make it fit**"))
    st.dataframe(labelled(fix_rows(result)), hide_index=True, width="stretch")

st.markdown(_("**Where the memory goes** (per GPU)"))
st.dataframe(labelled([{**row, "part": _(row["part"])} for row in explain(est)]), hide_index=True, width="stretch")
for note in est.notes:
    st.caption(note)

with st.expander(_("How this is estimated")):
    st.markdown(
        _(
            """
- **Weights:** parameters × bytes (fp32 4, bf16/fp16 2, int8 1, int4 0.516: NF4 with double quantization, QLoRA paper).
  Quantization covers the block linears; embeddings, the output head and norms stay 16-bit, as bitsandbytes does.
- **KV cache (inference):** 2 · layers · KV heads · head dim · tokens · batch · 2 bytes. GQA shrinks it by heads ÷ KV heads.
- **Training state:** gradients in the weights' dtype; AdamW keeps an fp32 master copy and two fp32 moments, so
  bf16 + AdamW is 2 + 2 + 12 = 16 bytes per parameter (ZeRO paper, Rajbhandari et al. 2020). SGD with momentum 12, plain SGD 8.
  LoRA/QLoRA train only the adapters (rank r on every linear), so only they carry gradients and optimizer states.
- **Activations (training):** what each layer saves for backward, counted as in Korthikanti et al. 2022
  (*Reducing Activation Recomputation in Large Transformer Models*, 34·s·b·h + 5·a·s²·b bytes per GPT layer), recounted
  for SwiGLU, GQA, no dropout and FlashAttention, plus the logits and their fp32 copy for the loss. With checkpointing
  only each layer's input is kept, and one layer is recomputed at a time. Checked against the tensors torch saves.
- **Framework overhead:** a CUDA context of ~0.5 GiB per GPU plus 10 % allocator slack.
- **Several GPUs:** data parallel copies everything; ZeRO-1/2/3 shard optimizer states / + gradients / + weights;
  tensor parallel (with sequence parallelism) divides weights, training state and activations, and the KV cache by up to the KV heads.
"""
        )
    )
