"""What a person reads on a page under AppTest, and the English left in it: the page walk in Chinese uses these.

Text is taken from each element's protobuf fields that people read (bodies, labels, help, options,
placeholders), from Plotly figures' titles, names and annotations, and from tables' column names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

import pandas as pd

READ = {"body", "label", "help", "options", "placeholder", "caption", "text", "title", "value", "tooltip", "message"}
# not prose: proper names, software, file formats, units, and the symbols of the maths
ALLOWED = {
    w.lower()
    for w in (
        "Descent Lab PyTorch torch torchvision torchaudio CUDA cuDNN cuda cpu mps GPU GPUs CPU CPUs NVIDIA NVML nvidia "
        "smi pip conda Python Streamlit Plotly Apple MPS Linux Windows macOS Ubuntu Debian WSL SGD Adam AdamW RMSprop "
        "Nesterov Adagrad MSE MAE RMSE Huber ReLU GELU tanh sigmoid MLP CSV JSON PNG GIF SVG HTML SQLite PostgreSQL "
        "QR URL UTF GBK OOM DDP NCCL gloo torchrun Kaleido Chromium Noto CJK Jupyter numpy pandas sklearn scikit "
        "safetensors pt nn Linear MSELoss optim lr GiB MiB KiB GB MB KB TB ms px fp bf float float16 float32 float64 "
        "bfloat16 int8 int64 dtype Hz fps FLOP FLOPs TFLOPS TF32 API CLI ETA ID id ok OK vs max min log ln exp lambda "
        "ROCm HIP AMD PCI PTX JIT MIG ECC"
        " GeForce RTX Llama Qwen Mistral GPT Transformer SwiGLU LoRA QLoRA ZeRO FSDP SDPA FlashAttention GQA NVLink bitsandbytes"
        " Excel Korthikanti Rajbhandari"
    ).split()
}
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S | re.I)  # a page's CSS is not prose
_SKIP = re.compile(r"`[^`]*`|\$[^$]*\$|https?://\S+|\{[^}]*\}|<[^>]+>|:material/[a-z_]+:|\S*[_\d./\\]\S*")
_WORD = re.compile(r"[A-Za-z]{3,}")


def texts(at) -> Iterator[str]:
    """Every string a person can read on the page AppTest has drawn."""
    yield from _walk(at._tree)


def _walk(node) -> Iterator[str]:
    proto = getattr(node, "proto", None)
    if proto is not None and hasattr(proto, "ListFields"):
        yield from _proto_texts(proto)
    value = getattr(node, "value", None) if type(node).__name__ in ("Dataframe", "Table") else None
    if isinstance(value, pd.DataFrame):
        yield from (str(c) for c in value.columns)
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _proto_texts(proto) -> Iterator[str]:
    for field, value in proto.ListFields():
        values = (
            list(value)
            if hasattr(value, "__len__") and not isinstance(value, (str, bytes)) and not hasattr(value, "ListFields")
            else [value]
        )
        if field.name == "spec" and isinstance(value, str):  # a Plotly figure
            yield from _figure_texts(json.loads(value))
        elif field.message_type is not None:
            for v in values:
                yield from _proto_texts(v)
        elif field.name in READ:
            yield from (v for v in values if isinstance(v, str))


def _figure_texts(figure: dict) -> Iterator[str]:
    layout = figure.get("layout", {})
    for trace in figure.get("data", []):
        if isinstance(trace.get("name"), str):
            yield trace["name"]
        if isinstance(trace.get("text"), str):
            yield trace["text"]
    yield from _titles(layout)
    for a in layout.get("annotations", []) or []:
        if isinstance(a.get("text"), str):
            yield a["text"]
    for menu in (layout.get("updatemenus") or []) + (layout.get("sliders") or []):
        for b in menu.get("buttons", []) + menu.get("steps", []):
            if isinstance(b.get("label"), str):
                yield b["label"]


def _titles(node) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "title":
                yield v if isinstance(v, str) else (v or {}).get("text") or ""
            else:
                yield from _titles(v)
    elif isinstance(node, list):
        for v in node:
            yield from _titles(v)


def english(strings: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """The strings that still hold an English word: three or more letters, not code, a unit or a name we keep."""
    keep = ALLOWED | {w.lower() for a in allowed for w in _WORD.findall(str(a))}
    found = []
    for s in strings:
        words = [w for w in _WORD.findall(_SKIP.sub(" ", _STYLE.sub(" ", s))) if w.lower() not in keep]
        if words:
            found.append(f"{s!r} ← {' '.join(words)}")
    return sorted(set(found))
