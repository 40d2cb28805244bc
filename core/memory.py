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

from dataclasses import dataclass, replace
from typing import Any, Literal

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

MODE_LABELS = {"inference": "inference", "full": "full fine-tune", "lora": "LoRA", "qlora": "QLoRA"}
OPTIMIZER_LABELS = {"adamw": "AdamW", "sgd_momentum": "SGD + momentum", "sgd": "SGD"}
PARALLELISM_LABELS = {
    "data": "data parallel (a full copy per GPU)",
    "zero1": "ZeRO-1 (optimizer states sharded)",
    "zero2": "ZeRO-2 (optimizer states and gradients sharded)",
    "zero3": "ZeRO-3 / FSDP (weights, gradients and optimizer states sharded)",
    "tensor": "tensor parallel (each layer split across GPUs)",
}

LORA_TARGETS_GATED = ("q", "k", "v", "o", "gate", "up", "down")  # every linear in a block, as QLoRA recommends
LORA_TARGETS_PLAIN = ("q", "k", "v", "o", "fc", "proj")
GPU_COUNTS = (2, 4, 8, 16, 32, 64)  # what "needs N GPUs" searches; tensor parallel stops at 8 (one node's NVLink)
MAX_TENSOR_PARALLEL = 8


class MemoryConfigError(ValueError):
    """An architecture or workload a person has to change; the message names the field and what is allowed."""


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
                raise MemoryConfigError(f"{name} must be a positive whole number; got {value!r}.")
        if self.heads % self.kv_heads:
            raise MemoryConfigError(f"attention heads ({self.heads}) must be a multiple of KV heads ({self.kv_heads}).")
        if self.head_dim is None and self.hidden_size % self.heads:
            raise MemoryConfigError(f"hidden size ({self.hidden_size}) must be a multiple of attention heads ({self.heads}).")
        if self.mlp not in ("gated", "plain") or self.norm not in ("rmsnorm", "layernorm"):
            raise MemoryConfigError(f"mlp must be gated or plain and norm rmsnorm or layernorm; got {self.mlp!r}, {self.norm!r}.")
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
                raise MemoryConfigError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}.")
        for name in ("seq_len", "batch", "n_gpus", "lora_rank"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise MemoryConfigError(f"{name} must be a positive whole number; got {value!r}.")
        if self.mode in ("full", "lora") and self.dtype not in TRAINABLE_DTYPES:
            raise MemoryConfigError(
                f"{MODE_LABELS[self.mode]} trains in fp32, bf16 or fp16; got {self.dtype}. To train on a quantized base, choose QLoRA."
            )
        if self.mode == "qlora" and self.dtype not in QUANTIZED:
            raise MemoryConfigError(
                f"QLoRA keeps the base quantized: choose int4 or int8; got {self.dtype}. For a 16-bit base choose LoRA."
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
        parts = [MODE_LABELS[self.mode], self.dtype]
        if self.training:
            parts.append(OPTIMIZER_LABELS[self.optimizer] if self.mode == "full" else f"rank {self.lora_rank}")
            if self.checkpointing:
                parts.append("checkpointing")
        parts.append(f"{self.seq_len:,} tokens × {self.batch}")
        if self.n_gpus > 1:
            parts.append(f"{self.n_gpus} GPUs, {self.parallelism}")
        return ", ".join(parts)


PARTS = ("weights", "gradients", "optimizer states", "activations", "KV cache", "framework overhead")


@dataclass(frozen=True)
class Estimate:
    """Bytes per GPU, part by part."""

    parts: dict[str, float]  # keys from PARTS, in that order
    params: int
    trainable_params: int
    workload: Workload
    notes: tuple[str, ...] = ()

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
        raise MemoryConfigError(f"Tensor parallel beyond {MAX_TENSOR_PARALLEL} GPUs leaves one node's NVLink; use ZeRO-3 or fewer GPUs.")
    if arch.heads % t:
        raise MemoryConfigError(f"Tensor parallel splits attention heads: {arch.heads} heads do not divide among {t} GPUs.")


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
            notes.append(f"LoRA adapters: {trainable:,} trainable parameters (rank {wl.lora_rank}, every linear of every block).")
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
            notes.append("ZeRO-3 adds one layer's gathered weights per GPU while it computes.")
    elif n > 1:
        notes.append("Data parallel keeps a full copy on every GPU: more GPUs add throughput, not memory.")

    tensors = weights + grads + states + acts + kv
    overhead = wl.cuda_context_bytes + wl.allocator_slack * tensors
    parts = dict(zip(PARTS, (weights, grads, states, acts, kv, overhead)))
    return Estimate(parts=parts, params=params, trainable_params=trainable, workload=wl, notes=tuple(notes))


# ---- the verdict: does it fit, and if not, what would ----


@dataclass(frozen=True)
class Fix:
    change: str  # what to change, in words
    workload: Workload
    total_bytes: float  # per GPU with the change


@dataclass(frozen=True)
class Verdict:
    fits: bool
    kind: Literal["fits", "same_gpus", "more_gpus", "quantize_or_lora", "no"]
    headline: str
    estimate: Estimate
    gpu_memory_bytes: int
    fixes: tuple[Fix, ...] = ()

    @property
    def headroom_bytes(self) -> float:
        return self.gpu_memory_bytes - self.estimate.total_bytes


def describe_change(old: Workload, new: Workload) -> str:
    """The differences between two workloads, in words a user can act on."""
    words = []
    if (new.mode, new.dtype) != (old.mode, old.dtype):
        if new.mode == "inference":
            words.append(f"{new.dtype} weights")
        elif new.mode == "qlora":
            words.append(f"QLoRA ({new.dtype} base frozen, bf16 adapters)")
        elif new.mode == "lora":
            words.append(f"LoRA ({new.dtype} base frozen)")
    if new.optimizer != old.optimizer and new.mode == "full":
        words.append(f"{OPTIMIZER_LABELS[new.optimizer]} instead of {OPTIMIZER_LABELS[old.optimizer]}")
    if new.checkpointing and not old.checkpointing:
        words.append("activation checkpointing")
    if new.flash_attention and not old.flash_attention:
        words.append("SDPA / FlashAttention")
    if new.batch < old.batch:
        words.append(f"batch {new.batch}" + (" (accumulate gradients for the same effective batch)" if new.training else ""))
    if new.seq_len < old.seq_len:
        words.append(f"sequences of {new.seq_len:,} tokens")
    if (new.n_gpus, new.parallelism) != (old.n_gpus, old.parallelism):
        words.append(f"{new.n_gpus} GPUs with {PARALLELISM_LABELS[new.parallelism]}")
    return ", ".join(words) or "no change"


def _fits(arch: ArchSpec, wl: Workload, gpu_bytes: int) -> float | None:
    """Bytes per GPU when wl fits, else None (an invalid combination does not fit)."""
    try:
        total = estimate(arch, wl).total_bytes
    except MemoryConfigError:
        return None
    return total if total <= gpu_bytes else None


def _relaxed(wl: Workload) -> Workload:
    """Every memory saver that keeps the model, the precision and the GPU count."""
    return replace(wl, checkpointing=wl.training, flash_attention=True, batch=1)


def _fewest_gpus(arch: ArchSpec, wl: Workload, gpu_bytes: int) -> Workload | None:
    """The smallest GPU count that fits, with the parallelism that saves most memory for this mode."""
    par: Parallelism = "zero3" if wl.training else "tensor"
    for n in GPU_COUNTS:
        if n > wl.n_gpus or (n == wl.n_gpus and par != wl.parallelism):
            candidate = replace(wl, n_gpus=n, parallelism=par)
            if _fits(arch, candidate, gpu_bytes) is not None:
                return candidate
    return None


def _same_gpu_candidates(wl: Workload) -> list[Workload]:
    """One saver at a time, then all of them together; same model, precision and GPU count."""
    out = []
    if wl.training and not wl.checkpointing:
        out.append(replace(wl, checkpointing=True))
    if wl.batch > 1:
        out.append(replace(wl, batch=1))
    if not wl.flash_attention:
        out.append(replace(wl, flash_attention=True))
    if wl.training and wl.n_gpus > 1 and wl.parallelism != "zero3":
        out.append(replace(wl, parallelism="zero3"))
    if wl.mode == "full" and wl.optimizer == "adamw":
        out.append(replace(wl, optimizer="sgd_momentum"))
    out.append(_relaxed(replace(wl, parallelism="zero3") if wl.training and wl.n_gpus > 1 else wl))
    return out


def _cheaper_candidates(wl: Workload) -> list[Workload]:
    """Quantization for inference; LoRA, then QLoRA, for training."""
    if wl.mode == "inference":
        return [replace(wl, dtype=d) for d in ("int8", "int4") if WEIGHT_BYTES[d] < WEIGHT_BYTES[wl.dtype]]
    out = []
    if wl.mode == "full":
        out.append(replace(wl, mode="lora", dtype="bf16" if wl.dtype == "fp32" else wl.dtype))
    if wl.mode in ("full", "lora"):
        out.append(replace(wl, mode="qlora", dtype="int4"))
    if wl.mode == "qlora" and wl.dtype == "int8":
        out.append(replace(wl, dtype="int4"))
    return out


def _fixes(arch: ArchSpec, wl: Workload, candidates: list[Workload], gpu_bytes: int) -> list[Fix]:
    fixes, seen = [], {wl}
    for c in candidates:
        total = _fits(arch, c, gpu_bytes) if c not in seen else None
        seen.add(c)
        if total is not None:
            fixes.append(Fix(describe_change(wl, c), c, total))
    return fixes


def _where(wl: Workload) -> str:
    return "one GPU" if wl.n_gpus == 1 else f"{wl.n_gpus} GPUs with {PARALLELISM_LABELS[wl.parallelism]}"


def verdict(arch: ArchSpec, wl: Workload, gpu_memory_bytes: int) -> Verdict:
    """Fits as set / fits with a saver on the same GPUs / needs N GPUs / fits only with quantization or LoRA / no."""
    if not (isinstance(gpu_memory_bytes, int) and gpu_memory_bytes > 0):
        raise MemoryConfigError(f"GPU memory must be a positive number of bytes; got {gpu_memory_bytes!r}.")
    est = estimate(arch, wl)
    gpu = gpu_memory_bytes
    if est.total_bytes <= gpu:
        headline = f"Fits on {_where(wl)}: {est.total_bytes / GIB:.1f} of {gpu / GIB:.1f} GiB per GPU."
        return Verdict(True, "fits", headline, est, gpu)

    need = f"Does not fit as set: {est.total_bytes / GIB:.1f} GiB per GPU, the GPU has {gpu / GIB:.1f} GiB."
    same = _fixes(arch, wl, _same_gpu_candidates(wl), gpu)
    more_wl = _fewest_gpus(arch, wl, gpu) or _fewest_gpus(arch, _relaxed(wl), gpu)
    more = _fixes(arch, wl, [more_wl] if more_wl else [], gpu)
    cheaper: list[Fix] = []
    for c in _cheaper_candidates(wl):
        found = _fixes(arch, wl, [c, _relaxed(c)], gpu)
        if not found and (spread := _fewest_gpus(arch, _relaxed(c), gpu)):
            found = _fixes(arch, wl, [spread], gpu)
        cheaper += found[:1]
    fixes = tuple(same + more + cheaper)
    if same:
        return Verdict(False, "same_gpus", f"{need} It fits on {_where(wl)} with {same[0].change}.", est, gpu, fixes)
    if more:
        return Verdict(False, "more_gpus", f"{need} Needs {more[0].change}.", est, gpu, fixes)
    if cheaper:
        return Verdict(False, "quantize_or_lora", f"{need} Fits only with {cheaper[0].change}.", est, gpu, fixes)
    return Verdict(False, "no", f"{need} {_shorter(arch, wl, gpu)}", est, gpu)


def _shorter(arch: ArchSpec, wl: Workload, gpu_bytes: int) -> str:
    """When nothing fits: the longest sequence (halving) at which the cheapest setting fits on up to 64 GPUs."""
    cheapest = _relaxed(replace(wl, mode="qlora", dtype="int4") if wl.training else replace(wl, dtype="int4"))
    seq = wl.seq_len // 2
    while seq >= 128:
        spread = _fits(arch, replace(cheapest, seq_len=seq), gpu_bytes) and replace(cheapest, seq_len=seq)
        spread = spread or _fewest_gpus(arch, replace(cheapest, seq_len=seq), gpu_bytes)
        if spread:
            return (
                f"Nothing fits at {wl.seq_len:,} tokens even 4-bit on {GPU_COUNTS[-1]} GPUs; with {describe_change(wl, spread)} it would."
            )
        seq //= 2
    return f"Nothing tried fits (4-bit, up to {GPU_COUNTS[-1]} GPUs, 128 tokens): use GPUs with more memory."


def _optimizer_words(wl: Workload) -> str:
    master = "fp32 master copy" if wl.mode != "full" or wl.dtype != "fp32" else ""
    states = {"adamw": "two fp32 moments", "sgd_momentum": "fp32 momentum", "sgd": ""}[wl.optimizer]
    return f"{OPTIMIZER_LABELS[wl.optimizer]}: " + (" + ".join(w for w in (master, states) if w) or "no state")


def explain(est: Estimate) -> list[dict[str, Any]]:
    """One row per part, for a table: GiB per GPU and the formula behind it."""
    wl = est.workload
    dt = wl.compute_bytes
    why = {
        "weights": f"{est.params:,} parameters at {wl.dtype}"
        + (" (block linears quantized, the rest 16-bit)" if wl.dtype in QUANTIZED else ""),
        "gradients": f"one per trainable parameter ({est.trainable_params:,})" if wl.training else "none: inference",
        "optimizer states": _optimizer_words(wl) if wl.training else "none: inference",
        "activations": (
            f"saved for backward, {dt}-byte values (Korthikanti et al. 2022)" + (", checkpointed" if wl.checkpointing else "")
            if wl.training
            else "one layer's working set during prefill"
        ),
        "KV cache": f"2 · layers · KV heads · head dim · {wl.seq_len:,} tokens · batch {wl.batch} · {dt} bytes"
        if not wl.training
        else "none: training",
        "framework overhead": f"CUDA context {wl.cuda_context_bytes / GIB:.2f} GiB + {wl.allocator_slack:.0%} allocator slack",
    }
    return [{"part": k, "GiB per GPU": round(v / GIB, 2), "how": why[k]} for k, v in est.parts.items()]


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
