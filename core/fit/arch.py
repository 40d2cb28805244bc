"""A transformer's architecture (ArchSpec) and its parameter counts, checked against a real torch model of the same shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.i18n import N_, LocalizedError

Dtype = Literal["fp32", "bf16", "fp16", "int8", "int4"]
Mode = Literal["inference", "full", "lora", "qlora"]
Optimizer = Literal["adamw", "sgd_momentum", "sgd"]
Parallelism = Literal["data", "zero1", "zero2", "zero3", "tensor"]

MLPKind = Literal["gated", "plain"]
NormKind = Literal["rmsnorm", "layernorm"]
DTYPES: tuple[str, ...] = Dtype.__args__
MODES: tuple[str, ...] = Mode.__args__
OPTIMIZERS: tuple[str, ...] = Optimizer.__args__
PARALLELISMS: tuple[str, ...] = Parallelism.__args__

GIB = 1024**3
MIB = 1024**2

# bytes per stored weight. int4 is NF4 with double quantization (QLoRA: 4.127 bits); int8 is LLM.int8 (scales negligible)
WEIGHT_BYTES: dict[str, float] = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 1.0, "int4": 4.127 / 8}
QUANTIZED = ("int8", "int4")
TRAINABLE_DTYPES = ("fp32", "bf16", "fp16")

# catalogue ids (N_): shown with _(LABELS[key]) where a person reads them; the keys are the values code passes around
MODE_LABELS = {"inference": N_("inference"), "full": N_("full fine-tune"), "lora": N_("LoRA"), "qlora": N_("QLoRA")}
OPTIMIZER_LABELS = {"adamw": N_("AdamW"), "sgd_momentum": N_("SGD + momentum"), "sgd": N_("SGD")}
PARALLELISM_LABELS = {
    "data": N_("data parallel (a full copy per GPU)"),
    "zero1": N_("ZeRO-1 (optimizer states sharded)"),
    "zero2": N_("ZeRO-2 (optimizer states and gradients sharded)"),
    "zero3": N_("ZeRO-3 / FSDP (weights, gradients and optimizer states sharded)"),
    "tensor": N_("tensor parallel (each layer split across GPUs)"),
}

LORA_TARGETS_GATED = ("q", "k", "v", "o", "gate", "up", "down")  # every linear in a block, as QLoRA recommends
LORA_TARGETS_PLAIN = ("q", "k", "v", "o", "fc", "proj")
GPU_COUNTS = (2, 4, 8, 16, 32, 64)  # what "needs N GPUs" searches; tensor parallel stops at 8 (one node's NVLink)
MAX_TENSOR_PARALLEL = 8


class MemoryConfigError(LocalizedError, ValueError):
    """An architecture or workload a person has to change; the message names the field and what is allowed,
    in the reader's language."""


@dataclass(frozen=True)
class ArchSpec:
    """A decoder-only transformer, in the words of a Hugging Face config.json."""

    layers: int  # num_hidden_layers / n_layer
    hidden_size: int  # hidden_size / n_embd
    heads: int  # num_attention_heads
    kv_heads: int  # num_key_value_heads; < heads is grouped-query attention (GQA)
    intermediate_size: int  # the MLP's inner width (GPT-2: 4 · hidden)
    vocab_size: int
    tied_embeddings: bool = False  # tie_word_embeddings: the output head reuses the input embedding
    mlp: MLPKind = "gated"  # gated: SwiGLU gate/up/down (Llama, Qwen, Mistral); plain: fc → GELU → proj (GPT-2)
    norm: NormKind = "rmsnorm"  # rmsnorm: a weight; layernorm: a weight and a bias
    linear_bias: bool = False  # every linear layer has a bias (GPT-2)
    qkv_bias: bool = False  # only q, k, v have a bias (Qwen2)
    learned_positions: int = 0  # rows of a learned position table (GPT-2: 1024); 0 for RoPE
    head_dim: int | None = None  # None: hidden_size / heads

    def validate(self) -> ArchSpec:
        for name in ("layers", "hidden_size", "heads", "kv_heads", "intermediate_size", "vocab_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise MemoryConfigError("{name} must be a positive whole number; got {value!r}.", name=name, value=value)
        if self.heads % self.kv_heads:
            raise MemoryConfigError(
                "attention heads ({heads}) must be a multiple of KV heads ({kv_heads}).", heads=self.heads, kv_heads=self.kv_heads
            )
        if self.head_dim is None and self.hidden_size % self.heads:
            raise MemoryConfigError(
                "hidden size ({hidden}) must be a multiple of attention heads ({heads}).", hidden=self.hidden_size, heads=self.heads
            )
        if self.mlp not in ("gated", "plain") or self.norm not in ("rmsnorm", "layernorm"):
            raise MemoryConfigError(
                "mlp must be gated or plain and norm rmsnorm or layernorm; got {mlp!r}, {norm!r}.", mlp=self.mlp, norm=self.norm
            )
        return self

    @property
    def dim_per_head(self) -> int:
        return self.head_dim or self.hidden_size // self.heads

    @property
    def q_dim(self) -> int:
        return self.heads * self.dim_per_head

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.dim_per_head

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) of each linear layer in one block."""
        h, i = self.hidden_size, self.intermediate_size
        attn = {"q": (h, self.q_dim), "k": (h, self.kv_dim), "v": (h, self.kv_dim), "o": (self.q_dim, h)}
        mlp = {"gate": (h, i), "up": (h, i), "down": (i, h)} if self.mlp == "gated" else {"fc": (h, i), "proj": (i, h)}
        return attn | mlp


@dataclass(frozen=True)
class ParamCounts:
    embedding: int  # token (+ learned position) embeddings
    block_linear: int  # the linear weight matrices of every block: what int8/int4 quantization compresses
    block_other: int  # biases and norms of every block, and the final norm: small, kept in 16-bit
    head: int  # the untied output projection (0 when tied)

    @property
    def total(self) -> int:
        return self.embedding + self.block_linear + self.block_other + self.head


def param_counts(arch: ArchSpec) -> ParamCounts:
    """Exact counts for the layout ArchSpec describes; tested against torch.nn on the meta device."""
    arch.validate()
    h = arch.hidden_size
    shapes = arch.linear_shapes()
    linear = sum(a * b for a, b in shapes.values())
    bias = 0
    if arch.linear_bias:
        bias = sum(out for _, out in shapes.values())
    elif arch.qkv_bias:
        bias = arch.q_dim + 2 * arch.kv_dim
    norm = h * (2 if arch.norm == "layernorm" else 1)
    per_layer_other = bias + 2 * norm  # a norm before attention and one before the MLP
    return ParamCounts(
        embedding=(arch.vocab_size + arch.learned_positions) * h,
        block_linear=arch.layers * linear,
        block_other=arch.layers * per_layer_other + norm,  # + the final norm
        head=0 if arch.tied_embeddings else arch.vocab_size * h,
    )


def param_count(arch: ArchSpec) -> int:
    return param_counts(arch).total


def lora_param_count(arch: ArchSpec, rank: int) -> int:
    """LoRA adds A (in × r) and B (r × out) beside every linear layer of every block (Hu et al. 2021)."""
    return arch.layers * sum(rank * (a + b) for a, b in arch.linear_shapes().values())


# ---- a real torch model built from an ArchSpec: the independent check on the counts and the bytes ----


def reference_model(arch: ArchSpec, device: str = "meta", dtype: Any = None) -> Any:
    """A plain torch.nn decoder built from arch (GPT-2 or Llama layout). On the meta device it allocates nothing,
    so tests can count a 70B model's parameters; on CUDA the benchmark measures its peak memory.
    torch is imported here, never at module import: the server imports this module."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    arch.validate()
    kw = {"device": device, "dtype": dtype}

    def norm() -> nn.Module:
        return nn.LayerNorm(arch.hidden_size, **kw) if arch.norm == "layernorm" else nn.RMSNorm(arch.hidden_size, **kw)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1, self.norm2 = norm(), norm()
            bias = {n: arch.linear_bias or (arch.qkv_bias and n in ("q", "k", "v")) for n in arch.linear_shapes()}
            self.proj = nn.ModuleDict({n: nn.Linear(a, b, bias=bias[n], **kw) for n, (a, b) in arch.linear_shapes().items()})

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, s, _ = x.shape
            p, d = self.proj, arch.dim_per_head
            y = self.norm1(x)
            q = p["q"](y).view(b, s, arch.heads, d).transpose(1, 2)
            k = p["k"](y).view(b, s, arch.kv_heads, d).transpose(1, 2)
            v = p["v"](y).view(b, s, arch.kv_heads, d).transpose(1, 2)
            att = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=arch.kv_heads != arch.heads)
            x = x + p["o"](att.transpose(1, 2).reshape(b, s, arch.q_dim))
            y = self.norm2(x)
            if arch.mlp == "gated":
                return x + p["down"](F.silu(p["gate"](y)) * p["up"](y))
            return x + p["proj"](F.gelu(p["fc"](y)))

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(arch.vocab_size, arch.hidden_size, **kw)
            self.pos = nn.Embedding(arch.learned_positions, arch.hidden_size, **kw) if arch.learned_positions else None
            self.blocks = nn.ModuleList(Block() for _ in range(arch.layers))
            self.norm = norm()
            self.head = nn.Linear(arch.hidden_size, arch.vocab_size, bias=False, **kw)
            if arch.tied_embeddings:
                self.head.weight = self.embed.weight

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            x = self.embed(tokens)
            if self.pos is not None:
                x = x + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
            for block in self.blocks:
                x = block(x)
            return self.head(self.norm(x))

    return Decoder()
