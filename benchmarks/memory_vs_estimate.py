"""Measured peak GPU memory against core.fit's estimate, for a small transformer at two sizes.

On a CUDA machine: builds a Llama-style decoder from an ArchSpec (core.fit.arch.reference_model), then measures
torch.cuda.max_memory_allocated for
  - inference: bf16 weights, a static KV cache of seq_len tokens, one prefill forward (logits for the last token);
  - training: one AdamW step with AMP (fp32 weights, bf16 autocast), without and with activation checkpointing,
and prints it beside the estimate's tensor bytes (max_memory_allocated counts tensors only, so the estimate's
framework overhead, CUDA context and allocator slack, is left out of the comparison). A gap above 20 % is a bug
to explain or fix.

    .venv/bin/python benchmarks/memory_vs_estimate.py            # needs a GPU; on CPU it says so and exits 0
    .venv/bin/python benchmarks/memory_vs_estimate.py --cpu-smoke  # runs the same steps tiny on the CPU, no numbers
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.fit import ArchSpec, Workload, estimate  # noqa: E402
from core.fit.arch import GIB  # noqa: E402

SIZES = {  # name: (arch, seq_len, batch)
    "small (~0.2 B)": (ArchSpec(8, 1024, 16, 4, 2816, 32000), 2048, 4),
    "medium (~0.9 B)": (ArchSpec(16, 2048, 16, 8, 5632, 32000), 2048, 2),
}
SMOKE = {"tiny": (ArchSpec(2, 64, 4, 2, 172, 100), 32, 2)}


def run_inference(torch, arch: ArchSpec, seq_len: int, batch: int, device: str) -> None:
    """Prefill with a preallocated KV cache, as a static-cache server holds it; logits for the last token only."""
    model = _model(torch, arch, device, torch.bfloat16)
    d = arch.dim_per_head
    cache = torch.empty(2, arch.layers, batch, arch.kv_heads, seq_len, d, dtype=torch.bfloat16, device=device)  # noqa: F841 - held
    tokens = torch.randint(0, arch.vocab_size, (batch, seq_len), device=device)
    with torch.no_grad():
        x = model.embed(tokens)
        for block in model.blocks:
            x = block(x)
        model.head(model.norm(x[:, -1:])).float()


def run_training(torch, arch: ArchSpec, seq_len: int, batch: int, device: str, checkpointing: bool, steps: int = 3) -> None:
    """AMP training steps; the caller resets the peak before the last one, when AdamW's states already exist."""
    from torch.nn import functional as F
    from torch.utils.checkpoint import checkpoint

    model = _model(torch, arch, device, torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokens = torch.randint(0, arch.vocab_size, (batch, seq_len), device=device)
    amp = torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)
    for step in range(steps):
        if step == steps - 1 and device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        with amp:
            x = model.embed(tokens)
            for block in model.blocks:
                x = checkpoint(block, x, use_reentrant=False) if checkpointing else block(x)
            logits = model.head(model.norm(x))
        loss = F.cross_entropy(logits.float().view(-1, arch.vocab_size), tokens.view(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


def _model(torch, arch: ArchSpec, device: str, dtype):
    from core.fit.arch import reference_model

    torch.manual_seed(0)
    model = reference_model(arch, device=device, dtype=dtype)
    for p in model.parameters():  # built uninitialised on purpose elsewhere; give it sane values here
        torch.nn.init.normal_(p, std=0.02)
    return model


def measure(torch, run, *args, **kwargs) -> float:
    """Peak bytes allocated by run(*args); a training run resets the peak itself before its last step."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    run(*args, **kwargs)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="run every step tiny on the CPU (checks the script, measures nothing)")
    args = parser.parse_args()
    import torch

    if args.cpu_smoke:
        for arch, seq, batch in SMOKE.values():
            run_inference(torch, arch, seq, batch, "cpu")
            run_training(torch, arch, seq, batch, "cpu", checkpointing=False)
            run_training(torch, arch, seq, batch, "cpu", checkpointing=True)
        print("cpu smoke: inference and training steps ran; memory is measured only on CUDA")
        return 0
    if not torch.cuda.is_available():
        print("memory_vs_estimate needs an NVIDIA GPU (torch.cuda.is_available() is False here); nothing measured.")
        return 0

    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    print(f"{'size':16} {'workload':44} {'estimate GiB':>12} {'measured GiB':>12} {'gap':>7}")
    for name, (arch, seq, batch) in SIZES.items():
        cases = [
            (Workload("inference", "bf16", seq_len=seq, batch=batch), run_inference, {}),
            (Workload("full", "bf16", seq_len=seq, batch=batch), run_training, {"checkpointing": False}),
            (Workload("full", "bf16", seq_len=seq, batch=batch, checkpointing=True), run_training, {"checkpointing": True}),
        ]
        for wl, run, kw in cases:
            est = estimate(arch, wl).tensor_bytes
            got = measure(torch, run, torch, arch, seq, batch, "cuda", **kw)
            print(f"{name:16} {wl.describe():44} {est / GIB:12.2f} {got / GIB:12.2f} {est / got - 1:+7.1%}")
    print("estimate: tensor bytes only (weights, gradients, optimizer states, activations, KV cache); no CUDA context or slack")
    return 0


if __name__ == "__main__":
    sys.exit(main())
