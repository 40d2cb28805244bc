"""Well-known open models with their published configurations, and common GPUs with their memory.

Each model row copies its config.json on the Hugging Face model card (the source column names it) and the
parameter count its publisher states; tests/unit/test_memory.py checks our count against that within 1 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.fit.arch import GIB, MIB, ArchSpec
from core.i18n import N_, _

if TYPE_CHECKING:
    from core.env.nvml import GPU


@dataclass(frozen=True)
class ModelPreset:
    name: str
    arch: ArchSpec
    published_params: int  # as the publisher states it (model card, or the safetensors total where exact)
    source: str  # where the architecture and the count come from: a catalogue id (N_), shown with _()


def _llama(layers: int, hidden: int, heads: int, kv: int, inter: int, vocab: int, tied: bool = False, **kw) -> ArchSpec:
    return ArchSpec(layers, hidden, heads, kv, inter, vocab, tied_embeddings=tied, **kw)


MODEL_PRESETS: dict[str, ModelPreset] = {
    p.name: p
    for p in (
        ModelPreset(
            "GPT-2 (124M)",
            ArchSpec(
                12, 768, 12, 12, 3072, 50257, tied_embeddings=True, mlp="plain", norm="layernorm", linear_bias=True, learned_positions=1024
            ),
            124_439_808,  # "124M"; exact count as nanoGPT reports it with the position table
            N_("huggingface.co/openai-community/gpt2 config.json (n_layer 12, n_embd 768, n_head 12, vocab 50257, n_positions 1024)"),
        ),
        ModelPreset(
            "Qwen2.5-0.5B",
            _llama(24, 896, 14, 2, 4864, 151936, tied=True, qkv_bias=True),
            490_000_000,  # model card: "Number of Parameters: 0.49B"
            N_("huggingface.co/Qwen/Qwen2.5-0.5B config.json and model card (0.49B)"),
        ),
        ModelPreset(
            "Llama-3.2-1B",
            _llama(16, 2048, 32, 8, 8192, 128256, tied=True),
            1_235_814_400,  # safetensors total; model card "1.23B"
            N_("huggingface.co/meta-llama/Llama-3.2-1B config.json (head_dim 64, tie_word_embeddings true)"),
        ),
        ModelPreset(
            "Mistral-7B-v0.1",
            _llama(32, 4096, 32, 8, 14336, 32000),
            7_241_732_096,  # safetensors total, "7.24B"
            N_("huggingface.co/mistralai/Mistral-7B-v0.1 config.json"),
        ),
        ModelPreset(
            "Qwen2.5-7B",
            _llama(28, 3584, 28, 4, 18944, 152064, qkv_bias=True),
            7_610_000_000,  # model card: "Number of Parameters: 7.61B"
            N_("huggingface.co/Qwen/Qwen2.5-7B config.json and model card (7.61B)"),
        ),
        ModelPreset(
            "Llama-3.1-8B",
            _llama(32, 4096, 32, 8, 14336, 128256),
            8_030_261_248,  # safetensors total, "8.03B"
            N_("huggingface.co/meta-llama/Llama-3.1-8B config.json"),
        ),
        ModelPreset(
            "Llama-3.1-70B",
            _llama(80, 8192, 64, 8, 28672, 128256),
            70_553_706_496,  # safetensors total, "70.6B"
            N_("huggingface.co/meta-llama/Llama-3.1-70B config.json"),
        ),
        ModelPreset(
            "Qwen2.5-72B",
            _llama(80, 8192, 64, 8, 29568, 152064, qkv_bias=True),
            72_700_000_000,  # model card: "Number of Parameters: 72.7B"
            N_("huggingface.co/Qwen/Qwen2.5-72B config.json and model card (72.7B)"),
        ),
    )
}

DEFAULT_MODEL = "Llama-3.1-8B"


@dataclass(frozen=True)
class GPUCard:
    name: str
    memory_bytes: int  # total as nvidia-smi reports it (MiB × 2²⁰), a little under the marketed GB


GPU_CARDS: dict[str, GPUCard] = {
    c.name: c
    for c in (
        GPUCard("NVIDIA T4 (16 GB)", 15360 * MIB),
        GPUCard("NVIDIA L4 (24 GB)", 23034 * MIB),
        GPUCard("GeForce RTX 4090 (24 GB)", 24564 * MIB),
        GPUCard("NVIDIA A100 (40 GB)", 40960 * MIB),
        GPUCard("NVIDIA A100 (80 GB)", 81920 * MIB),
        GPUCard("NVIDIA H100 (80 GB)", 81559 * MIB),
        GPUCard("NVIDIA H200 (141 GB)", 143771 * MIB),
    )
}

DEFAULT_CARD = "GeForce RTX 4090 (24 GB)"


def detected_cards(gpus: Iterable[GPU]) -> dict[str, int]:
    """The GPUs the environment probe found, as label → free bytes; a GPU whose memory was not read is left out."""
    cards = {}
    for g in gpus:
        if g.memory_total_bytes:
            free = g.memory_total_bytes - (g.memory_used_bytes or 0)
            # the label in the reader's language: it is also the option's value, which a new probe changes anyway
            cards[_("GPU {index}: {name}, {free:.1f} GiB free", index=g.index, name=g.name, free=free / GIB)] = free
    return cards


def card_choices(detected: dict[str, int]) -> dict[str, int]:
    """What the GPU picker offers, label → bytes: this machine's GPUs first (free memory), then every GPU_CARDS card (total)."""
    return {**detected, **{c.name: c.memory_bytes for c in GPU_CARDS.values()}}
