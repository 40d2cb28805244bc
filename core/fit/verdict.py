"""Does it fit, and if not, what would: fewer bytes per weight, LoRA, checkpointing, more GPUs. Each fix is re-estimated.

Every sentence here is built with _() in the language of whoever asked (verdicts are computed per request, never
cached), so the page shows them as they come."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from typing import Any, Literal

from core.fit.arch import (
    GIB,
    GPU_COUNTS,
    OPTIMIZER_LABELS,
    PARALLELISM_LABELS,
    QUANTIZED,
    WEIGHT_BYTES,
    ArchSpec,
    MemoryConfigError,
    Parallelism,
)
from core.fit.estimate import Estimate, Workload, estimate
from core.i18n import _

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


def listed(words: list[str]) -> str:
    """Phrases one after another with the language's separator (", " in English, "、" in Chinese)."""
    out = words[0] if words else ""
    for word in words[1:]:
        out = _("{items}, {item}", items=out, item=word)
    return out


def describe_change(old: Workload, new: Workload) -> str:
    """The differences between two workloads, in words a user can act on."""
    words = []
    if (new.mode, new.dtype) != (old.mode, old.dtype):
        if new.mode == "inference":
            words.append(_("{dtype} weights", dtype=new.dtype))
        elif new.mode == "qlora":
            words.append(_("QLoRA ({dtype} base frozen, bf16 adapters)", dtype=new.dtype))
        elif new.mode == "lora":
            words.append(_("LoRA ({dtype} base frozen)", dtype=new.dtype))
    if new.optimizer != old.optimizer and new.mode == "full":
        words.append(_("{new} instead of {old}", new=_(OPTIMIZER_LABELS[new.optimizer]), old=_(OPTIMIZER_LABELS[old.optimizer])))
    if new.checkpointing and not old.checkpointing:
        words.append(_("activation checkpointing"))
    if new.flash_attention and not old.flash_attention:
        words.append(_("SDPA / FlashAttention"))
    if new.batch < old.batch:
        if new.training:
            words.append(_("batch {batch} (accumulate gradients for the same effective batch)", batch=new.batch))
        else:
            words.append(_("batch {batch}", batch=new.batch))
    if new.seq_len < old.seq_len:
        words.append(_("sequences of {tokens:,} tokens", tokens=new.seq_len))
    if (new.n_gpus, new.parallelism) != (old.n_gpus, old.parallelism):
        words.append(_("{gpus} GPUs with {parallelism}", gpus=new.n_gpus, parallelism=_(PARALLELISM_LABELS[new.parallelism])))
    return listed(words) or _("no change")


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
    if wl.n_gpus == 1:
        return _("one GPU")
    return _("{gpus} GPUs with {parallelism}", gpus=wl.n_gpus, parallelism=_(PARALLELISM_LABELS[wl.parallelism]))


def verdict(arch: ArchSpec, wl: Workload, gpu_memory_bytes: int) -> Verdict:
    """Fits as set / fits with a saver on the same GPUs / needs N GPUs / fits only with quantization or LoRA / no."""
    if not (isinstance(gpu_memory_bytes, int) and gpu_memory_bytes > 0):
        raise MemoryConfigError("GPU memory must be a positive number of bytes; got {value!r}.", value=gpu_memory_bytes)
    est = estimate(arch, wl)
    gpu = gpu_memory_bytes
    if est.total_bytes <= gpu:
        headline = _("Fits on {where}: {need:.1f} of {have:.1f} GiB per GPU.", where=_where(wl), need=est.total_bytes / GIB, have=gpu / GIB)
        return Verdict(True, "fits", headline, est, gpu)

    need = _("Does not fit as set: {need:.1f} GiB per GPU, the GPU has {have:.1f} GiB.", need=est.total_bytes / GIB, have=gpu / GIB)
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
        headline = _("{need} It fits on {where} with {change}.", need=need, where=_where(wl), change=same[0].change)
        return Verdict(False, "same_gpus", headline, est, gpu, fixes)
    if more:
        return Verdict(False, "more_gpus", _("{need} Needs {change}.", need=need, change=more[0].change), est, gpu, fixes)
    if cheaper:
        return Verdict(
            False, "quantize_or_lora", _("{need} Fits only with {change}.", need=need, change=cheaper[0].change), est, gpu, fixes
        )
    return Verdict(False, "no", _("{need} {shorter}", need=need, shorter=_shorter(arch, wl, gpu)), est, gpu)


def _shorter(arch: ArchSpec, wl: Workload, gpu_bytes: int) -> str:
    """When nothing fits: the longest sequence (halving) at which the cheapest setting fits on up to 64 GPUs."""
    cheapest = _relaxed(replace(wl, mode="qlora", dtype="int4") if wl.training else replace(wl, dtype="int4"))
    seq = wl.seq_len // 2
    while seq >= 128:
        spread = _fits(arch, replace(cheapest, seq_len=seq), gpu_bytes) and replace(cheapest, seq_len=seq)
        spread = spread or _fewest_gpus(arch, replace(cheapest, seq_len=seq), gpu_bytes)
        if spread:
            return _(
                "Nothing fits at {tokens:,} tokens even 4-bit on {gpus} GPUs; with {change} it would.",
                tokens=wl.seq_len,
                gpus=GPU_COUNTS[-1],
                change=describe_change(wl, spread),
            )
        seq //= 2
    return _("Nothing tried fits (4-bit, up to {gpus} GPUs, 128 tokens): use GPUs with more memory.", gpus=GPU_COUNTS[-1])


def _optimizer_words(wl: Workload) -> str:
    master = _("fp32 master copy") if wl.mode != "full" or wl.dtype != "fp32" else ""
    states = {"adamw": _("two fp32 moments"), "sgd_momentum": _("fp32 momentum"), "sgd": ""}[wl.optimizer]
    held = " + ".join(w for w in (master, states) if w) or _("no state")
    return _("{optimizer}: {states}", optimizer=_(OPTIMIZER_LABELS[wl.optimizer]), states=held)


def _activation_words(wl: Workload) -> str:
    if not wl.training:
        return _("one layer's working set during prefill")
    if wl.checkpointing:
        return _("saved for backward, {bytes}-byte values (Korthikanti et al. 2022), checkpointed", bytes=wl.compute_bytes)
    return _("saved for backward, {bytes}-byte values (Korthikanti et al. 2022)", bytes=wl.compute_bytes)


def explain(est: Estimate) -> list[dict[str, Any]]:
    """One row per part, for a table: GiB per GPU and the formula behind it. The keys (and "part") stay English for
    code; the page labels the columns and the parts, and "how" is in the reader's language."""
    wl = est.workload
    dt = wl.compute_bytes
    if wl.dtype in QUANTIZED:
        weights = _("{params:,} parameters at {dtype} (block linears quantized, the rest 16-bit)", params=est.params, dtype=wl.dtype)
    else:
        weights = _("{params:,} parameters at {dtype}", params=est.params, dtype=wl.dtype)
    inference = _("none: inference")
    why = {
        "weights": weights,
        "gradients": _("one per trainable parameter ({params:,})", params=est.trainable_params) if wl.training else inference,
        "optimizer states": _optimizer_words(wl) if wl.training else inference,
        "activations": _activation_words(wl),
        "KV cache": _(
            "2 · layers · KV heads · head dim · {tokens:,} tokens · batch {batch} · {bytes} bytes",
            tokens=wl.seq_len,
            batch=wl.batch,
            bytes=dt,
        )
        if not wl.training
        else _("none: training"),
        "framework overhead": _(
            "CUDA context {context:.2f} GiB + {slack:.0%} allocator slack", context=wl.cuda_context_bytes / GIB, slack=wl.allocator_slack
        ),
    }
    return [{"part": k, "GiB per GPU": round(v / GIB, 2), "how": why[k]} for k, v in est.parts.items()]


def fix_rows(result: Verdict) -> list[dict[str, Any]]:
    """One row per fix, for a table: the change and the GiB per GPU with it."""
    return [{"change": f.change, "GiB per GPU": round(f.total_bytes / GIB, 1)} for f in result.fixes]


def bars(arch: ArchSpec, result: Verdict, fixes_shown: int = 4) -> list[tuple[str, dict[str, float]]]:
    """memory_figure's rows: the setting as chosen, then the first fixes, each as GiB per part, labels wrapped for the axis
    (a Chinese character is about two Latin letters wide: half as many per line)."""
    rows = [(_("Your settings"), result.estimate.gib())]
    return rows + [
        ("<br>".join(textwrap.wrap(f.change, _width(f.change))), estimate(arch, f.workload).gib()) for f in result.fixes[:fixes_shown]
    ]


def _width(text: str, width: int = 42) -> int:
    return width // 2 if any("\u2e80" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in text) else width
