"""Will a transformer fit on my GPUs? Parameter count and bytes per part, for inference and for training.

Pure arithmetic, no torch at import time (the server imports this). Every byte formula names its source;
the numbers are per GPU and are estimates of what the tensors need, plus a stated framework overhead.

Sources:
- Mixed-precision Adam = 16 bytes/param (2 weights + 2 grads + 4 fp32 master + 4 + 4 Adam moments), and the
  ZeRO stages 1-3 (shard optimizer states / + gradients / + weights): Rajbhandari et al. 2020, "ZeRO: Memory
  Optimizations Toward Training Trillion Parameter Models", section 3.1 and figure 1.
- Activations: Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
  section 4.1 (34·s·b·h + 5·a·s²·b bytes per layer, GPT-style, 16-bit). We recount the same way for a gated
  (SwiGLU) MLP, grouped-query attention and no dropout; see activation_bytes_per_layer.
- NF4 with double quantization = 4.127 bits/param: Dettmers et al. 2023, "QLoRA", section 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.fit.arch import (
    DTYPES,
    GIB,
    MAX_TENSOR_PARALLEL,
    MIB,
    MODE_LABELS,
    MODES,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    PARALLELISMS,
    QUANTIZED,
    TRAINABLE_DTYPES,
    WEIGHT_BYTES,
    ArchSpec,
    Dtype,
    MemoryConfigError,
    Mode,
    Optimizer,
    Parallelism,
    lora_param_count,
    param_count,
    param_counts,
)
from core.i18n import N_, _

# ---- bytes, part by part (whole model, one GPU; sharding comes later) ----


def weight_bytes(arch: ArchSpec, dtype: str) -> float:
    """Weights at dtype. Quantization (int8/int4) compresses the block linears only; embeddings, the output head,
    norms and biases stay 16-bit, as bitsandbytes does (it skips lm_head and leaves nn.Embedding alone)."""
    p = param_counts(arch)
    if dtype in QUANTIZED:
        return p.block_linear * WEIGHT_BYTES[dtype] + (p.total - p.block_linear) * 2
    return p.total * WEIGHT_BYTES[dtype]


def block_weight_bytes(arch: ArchSpec, dtype: str) -> float:
    """The transformer blocks' weights alone (no embeddings, no output head)."""
    p = param_counts(arch)
    linear = WEIGHT_BYTES[dtype]
    other = 2 if dtype in QUANTIZED else WEIGHT_BYTES[dtype]
    return p.block_linear * linear + p.block_other * other


def kv_cache_bytes(arch: ArchSpec, seq_len: int, batch: int, bytes_per_value: float = 2) -> float:
    """K and V for every layer and token: 2 · layers · kv_heads · head_dim · seq_len · batch · bytes."""
    return 2 * arch.layers * arch.kv_dim * seq_len * batch * bytes_per_value


def gradient_bytes(params: int, dtype: str) -> float:
    """One gradient per trainable parameter, in the weights' dtype (ZeRO paper: 2 bytes in mixed precision)."""
    return params * WEIGHT_BYTES[dtype]


def optimizer_state_bytes(params: int, optimizer: str, dtype: str) -> float:
    """fp32 master weights when training in 16-bit (4 bytes), plus the optimizer's fp32 states:
    AdamW m and v (8), SGD momentum (4), plain SGD (0). bf16 + AdamW: 2 + 2 + 12 = 16 bytes/param in all."""
    master = 4 if dtype in ("bf16", "fp16") else 0
    states = {"adamw": 8, "sgd_momentum": 4, "sgd": 0}[optimizer]
    return params * (master + states)


def norm_saved_bytes(arch: ArchSpec, bytes_per_value: float = 2) -> float:
    """What one norm saves per token. LayerNorm is one fused kernel that saves its input. RMSNorm, as PyTorch's
    nn.RMSNorm and Hugging Face's LlamaRMSNorm run it, upcasts to fp32 and saves the fp32 input and the fp32
    normalized tensor (8·h bytes); a fused kernel (Apex, Liger) would save 2·h. Measured in the unit tests."""
    return 8 * arch.hidden_size if arch.norm == "rmsnorm" else arch.hidden_size * bytes_per_value


def activation_bytes_per_layer(arch: ArchSpec, seq_len: int, batch: int, bytes_per_value: float = 2, flash: bool = True) -> float:
    """What one block saves for backward, counted as Korthikanti et al. 2022 (sec. 4.1) count it.

    Their GPT block (16-bit, with dropout) saves 34·s·b·h + 5·a·s²·b bytes. We recount per token: two norms
    (norm_saved_bytes); then, in values: q/k/v input h; q, k, v: q_dim + 2·kv_dim; output-projection input q_dim;
    MLP input h; MLP: gated saves gate, silu(gate), up and their product (4·i), plain the GELU input and output
    (2·i). No dropout (fine-tuning recipes set it to 0). Flash/SDPA attention keeps no s² matrix; eager attention
    keeps the softmax output (a·s² per sequence). Check: plain, i = 4h, MHA, LayerNorm → 16·h values = 32·s·b·h
    bytes, the paper's 34 less its two dropout masks."""
    h, i = arch.hidden_size, arch.intermediate_size
    values = h + (arch.q_dim + 2 * arch.kv_dim) + arch.q_dim + h + (4 * i if arch.mlp == "gated" else 2 * i)
    per_token = 2 * norm_saved_bytes(arch, bytes_per_value) + values * bytes_per_value
    scores = 0 if flash else arch.heads * seq_len * seq_len * batch * bytes_per_value
    return seq_len * batch * per_token + scores


def logits_bytes(arch: ArchSpec, seq_len: int, batch: int, bytes_per_value: float = 2) -> float:
    """The final norm, the output head's input, the logits, and the fp32 copy the loss is computed in."""
    per_token = norm_saved_bytes(arch, bytes_per_value) + arch.hidden_size * bytes_per_value + arch.vocab_size * (bytes_per_value + 4)
    return seq_len * batch * per_token


def training_activation_bytes(
    arch: ArchSpec, seq_len: int, batch: int, bytes_per_value: float = 2, checkpointing: bool = False, flash: bool = True
) -> float:
    """All layers' saved activations; with full activation checkpointing only each layer's input (2·s·b·h bytes
    in 16-bit) is kept, and one layer at a time is recomputed in backward (Korthikanti et al., sec. 4.3)."""
    layer = activation_bytes_per_layer(arch, seq_len, batch, bytes_per_value, flash)
    head = logits_bytes(arch, seq_len, batch, bytes_per_value)
    if checkpointing:
        return arch.layers * seq_len * batch * arch.hidden_size * bytes_per_value + layer + head
    return arch.layers * layer + head


def inference_activation_bytes(arch: ArchSpec, seq_len: int, batch: int, bytes_per_value: float = 2, flash: bool = True) -> float:
    """Prefill's working set: nothing is saved across layers, so one block's live tensors at the MLP (residual,
    normed input and the MLP's inner tensors), plus fp32 logits for the last position only."""
    h, i = arch.hidden_size, arch.intermediate_size
    inner = 3 * i if arch.mlp == "gated" else 2 * i
    scores = 0 if flash else arch.heads * seq_len * seq_len * batch * bytes_per_value
    return seq_len * batch * (2 * h + inner) * bytes_per_value + scores + batch * arch.vocab_size * 4


# ---- a workload, and the estimate per GPU ----


@dataclass(frozen=True)
class Workload:
    """What you want to run, and on how many GPUs."""

    mode: Mode = "inference"
    dtype: Dtype = "bf16"  # the weights; for QLoRA the base's quantization (int4 or int8)
    optimizer: Optimizer = "adamw"  # training only
    seq_len: int = 4096  # tokens per sequence (prompt + generated, for inference)
    batch: int = 1  # sequences per GPU (the micro-batch)
    checkpointing: bool = False  # full activation checkpointing (recompute each layer in backward)
    flash_attention: bool = True  # SDPA / FlashAttention: no s² score matrix is kept
    lora_rank: int = 16
    n_gpus: int = 1
    parallelism: Parallelism = "data"
    cuda_context_bytes: int = 500 * MIB  # CUDA context + cuBLAS/cuDNN workspaces, per GPU (~0.3-0.6 GiB with torch 2.x)
    allocator_slack: float = 0.10  # PyTorch's caching allocator: fragmentation and rounding, as a share of tensors

    def validate(self) -> Workload:
        choices = {"mode": MODES, "dtype": DTYPES, "optimizer": OPTIMIZERS, "parallelism": PARALLELISMS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise MemoryConfigError(
                    "{name} must be one of {allowed}; got {value!r}.", name=name, allowed=", ".join(allowed), value=getattr(self, name)
                )
        for name in ("seq_len", "batch", "n_gpus", "lora_rank"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise MemoryConfigError("{name} must be a positive whole number; got {value!r}.", name=name, value=value)
        if self.mode in ("full", "lora") and self.dtype not in TRAINABLE_DTYPES:
            raise MemoryConfigError(
                "{mode} trains in fp32, bf16 or fp16; got {dtype}. To train on a quantized base, choose QLoRA.",
                mode=_(MODE_LABELS[self.mode]),
                dtype=self.dtype,
            )
        if self.mode == "qlora" and self.dtype not in QUANTIZED:
            raise MemoryConfigError(
                "QLoRA keeps the base quantized: choose int4 or int8; got {dtype}. For a 16-bit base choose LoRA.", dtype=self.dtype
            )
        if self.mode == "inference" and self.parallelism in ("zero1", "zero2", "zero3"):
            raise MemoryConfigError("ZeRO shards training state; for inference choose data parallel (replicas) or tensor parallel.")
        if not 0 <= self.allocator_slack < 1 or self.cuda_context_bytes < 0:
            raise MemoryConfigError("allocator_slack must be in [0, 1) and cuda_context_bytes ≥ 0.")
        return self

    @property
    def training(self) -> bool:
        return self.mode != "inference"

    @property
    def compute_bytes(self) -> int:
        """Bytes per activation / KV value: fp32 runs in fp32; everything else computes in 16-bit."""
        return 4 if self.dtype == "fp32" else 2

    def describe(self) -> str:
        """A short English line for benchmark logs (benchmarks/memory_vs_estimate.py), not for the page."""
        parts = [MODE_LABELS[self.mode], self.dtype]
        if self.training:
            parts.append(OPTIMIZER_LABELS[self.optimizer] if self.mode == "full" else f"rank {self.lora_rank}")
            if self.checkpointing:
                parts.append("checkpointing")
        parts.append(f"{self.seq_len:,} tokens × {self.batch}")
        if self.n_gpus > 1:
            parts.append(f"{self.n_gpus} GPUs, {self.parallelism}")
        return ", ".join(parts)


# the parts' keys, also catalogue ids: _(part) where a person reads one
PARTS = (N_("weights"), N_("gradients"), N_("optimizer states"), N_("activations"), N_("KV cache"), N_("framework overhead"))


@dataclass(frozen=True)
class Estimate:
    """Bytes per GPU, part by part."""

    parts: dict[str, float]  # keys from PARTS, in that order
    params: int
    trainable_params: int
    workload: Workload
    notes: tuple[str, ...] = ()  # in the language of whoever asked for the estimate (built per request, never cached)

    @property
    def total_bytes(self) -> float:
        return sum(self.parts.values())

    @property
    def tensor_bytes(self) -> float:
        return self.total_bytes - self.parts["framework overhead"]

    def gib(self) -> dict[str, float]:
        return {k: v / GIB for k, v in self.parts.items()}


def _check_tensor_parallel(arch: ArchSpec, t: int) -> None:
    if t > MAX_TENSOR_PARALLEL:
        raise MemoryConfigError(
            "Tensor parallel beyond {most} GPUs leaves one node's NVLink; use ZeRO-3 or fewer GPUs.", most=MAX_TENSOR_PARALLEL
        )
    if arch.heads % t:
        raise MemoryConfigError(
            "Tensor parallel splits attention heads: {heads} heads do not divide among {gpus} GPUs.", heads=arch.heads, gpus=t
        )


def estimate(arch: ArchSpec, wl: Workload) -> Estimate:
    """Bytes per GPU for this architecture and workload."""
    arch.validate()
    wl.validate()
    n, par = wl.n_gpus, (wl.parallelism if wl.n_gpus > 1 else "data")
    if par == "tensor":
        _check_tensor_parallel(arch, n)
    params = param_count(arch)
    dt = wl.compute_bytes
    notes: list[str] = []

    weights = weight_bytes(arch, wl.dtype)
    grads = states = kv = 0.0
    trainable = 0
    if wl.mode == "inference":
        kv = kv_cache_bytes(arch, wl.seq_len, wl.batch, dt)
        acts = inference_activation_bytes(arch, wl.seq_len, wl.batch, dt, wl.flash_attention)
    else:
        trainable = params if wl.mode == "full" else lora_param_count(arch, wl.lora_rank)
        train_dtype = wl.dtype if wl.mode == "full" else "bf16"  # adapters train in mixed precision over any base
        if wl.mode != "full":
            weights += trainable * WEIGHT_BYTES[train_dtype]
            notes.append(
                _(
                    "LoRA adapters: {params:,} trainable parameters (rank {rank}, every linear of every block).",
                    params=trainable,
                    rank=wl.lora_rank,
                )
            )
        grads = gradient_bytes(trainable, train_dtype)
        states = optimizer_state_bytes(trainable, wl.optimizer, train_dtype)
        acts = training_activation_bytes(arch, wl.seq_len, wl.batch, dt, wl.checkpointing, wl.flash_attention)

    if par == "tensor":
        weights, grads, states, acts = weights / n, grads / n, states / n, acts / n  # Megatron TP + sequence parallel
        kv /= min(n, arch.kv_heads)  # KV heads are split; beyond kv_heads GPUs they are replicated
    elif par in ("zero1", "zero2", "zero3"):
        states /= n
        if par in ("zero2", "zero3"):
            grads /= n
        if par == "zero3":
            weights = weights / n + block_weight_bytes(arch, wl.dtype) / arch.layers  # one layer, all-gathered to compute
            notes.append(_("ZeRO-3 adds one layer's gathered weights per GPU while it computes."))
    elif n > 1:
        notes.append(_("Data parallel keeps a full copy on every GPU: more GPUs add throughput, not memory."))

    tensors = weights + grads + states + acts + kv
    overhead = wl.cuda_context_bytes + wl.allocator_slack * tensors
    parts = dict(zip(PARTS, (weights, grads, states, acts, kv, overhead)))
    return Estimate(parts=parts, params=params, trainable_params=trainable, workload=wl, notes=tuple(notes))
