"""core.fit: counts against published numbers and real torch models, bytes part by part, sharding, verdicts."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from core.fit import ArchSpec, MemoryConfigError, Workload, estimate, param_count, verdict, weight_bytes
from core.fit.arch import GIB, MIB, lora_param_count, param_counts, reference_model
from core.fit.estimate import activation_bytes_per_layer, gradient_bytes, kv_cache_bytes, optimizer_state_bytes, training_activation_bytes
from core.fit.figures import memory_figure
from core.fit.presets import GPU_CARDS, MODEL_PRESETS
from core.fit.verdict import explain

ROOT = Path(__file__).resolve().parents[3]
TINY_GPT2 = ArchSpec(2, 64, 4, 4, 256, 100, tied_embeddings=True, mlp="plain", norm="layernorm", linear_bias=True, learned_positions=32)
TINY_LLAMA = ArchSpec(3, 64, 8, 2, 172, 100)
TINY_QWEN = ArchSpec(2, 48, 6, 2, 128, 90, qkv_bias=True, tied_embeddings=True)
LLAMA8B = MODEL_PRESETS["Llama-3.1-8B"].arch
LLAMA70B = MODEL_PRESETS["Llama-3.1-70B"].arch


def torch_count(arch: ArchSpec) -> int:
    return sum(p.numel() for p in reference_model(arch, device="meta").parameters())  # tied weights counted once


# ---- parameter counts ----


@pytest.mark.parametrize("name", list(MODEL_PRESETS))
def test_preset_count_matches_the_published_count_within_one_percent(name):
    preset = MODEL_PRESETS[name]
    assert param_count(preset.arch) == pytest.approx(preset.published_params, rel=0.01)
    assert preset.source


def test_exact_published_counts():
    assert param_count(MODEL_PRESETS["GPT-2 (124M)"].arch) == 124_439_808
    assert param_count(LLAMA8B) == 8_030_261_248
    assert param_count(LLAMA70B) == 70_553_706_496
    assert param_count(MODEL_PRESETS["Mistral-7B-v0.1"].arch) == 7_241_732_096
    assert param_count(MODEL_PRESETS["Qwen2.5-7B"].arch) == 7_615_616_512  # the safetensors total of the 7.61B


@pytest.mark.parametrize("arch", [TINY_GPT2, TINY_LLAMA, TINY_QWEN], ids=["gpt2", "llama", "qwen"])
def test_count_equals_a_real_torch_model_on_the_meta_device(arch):
    assert param_count(arch) == torch_count(arch)


@pytest.mark.parametrize("name", list(MODEL_PRESETS))
def test_every_preset_builds_on_meta_with_the_same_count(name):
    assert torch_count(MODEL_PRESETS[name].arch) == param_count(MODEL_PRESETS[name].arch)


def test_lora_count_matches_peft_on_llama_8b():
    # PEFT's print_trainable_parameters for r=16 on q,k,v,o,gate,up,down of Llama-3-8B: 41,943,040
    assert lora_param_count(LLAMA8B, 16) == 41_943_040


# ---- bytes, part by part ----


def test_weight_bytes_per_dtype():
    n = param_count(LLAMA8B)
    assert weight_bytes(LLAMA8B, "fp32") == 4 * n
    assert weight_bytes(LLAMA8B, "bf16") == weight_bytes(LLAMA8B, "fp16") == 2 * n
    p = param_counts(LLAMA8B)
    assert weight_bytes(LLAMA8B, "int8") == p.block_linear + 2 * (n - p.block_linear)  # embeddings and head stay 16-bit
    assert weight_bytes(LLAMA8B, "int4") == pytest.approx(p.block_linear * 4.127 / 8 + 2 * (n - p.block_linear))


def test_kv_cache_of_llama_8b_at_8k_is_one_gib():
    # 2 (K, V) · 32 layers · 8 KV heads · 128 head dim · 8192 tokens · 2 bytes = 2³⁰
    assert kv_cache_bytes(LLAMA8B, 8192, 1) == GIB
    assert kv_cache_bytes(LLAMA8B, 8192, 4) == 4 * GIB
    mha = replace(LLAMA8B, kv_heads=32)
    assert kv_cache_bytes(mha, 8192, 1) == 4 * GIB  # GQA's saving: heads / kv_heads


def test_mixed_precision_adam_is_16_bytes_per_param():
    n = 1000
    assert weight_bytes(replace(TINY_LLAMA), "bf16") == 2 * param_count(TINY_LLAMA)
    assert 2 * n + gradient_bytes(n, "bf16") + optimizer_state_bytes(n, "adamw", "bf16") == 16 * n
    assert 4 * n + gradient_bytes(n, "fp32") + optimizer_state_bytes(n, "adamw", "fp32") == 16 * n  # no master copy
    assert optimizer_state_bytes(n, "sgd_momentum", "bf16") == 8 * n
    assert optimizer_state_bytes(n, "sgd", "bf16") == 4 * n
    assert optimizer_state_bytes(n, "sgd", "fp32") == 0


def test_activations_reproduce_korthikanti_for_a_gpt_layer():
    # GPT layer, MHA, i = 4h, fused LayerNorm, no dropout: 34·s·b·h less the two s·b·h dropout masks = 32·s·b·h
    h, s, b, a = 512, 1024, 2, 8
    gpt = ArchSpec(1, h, a, a, 4 * h, 1000, mlp="plain", norm="layernorm")
    assert activation_bytes_per_layer(gpt, s, b, 2) == 32 * s * b * h
    # eager attention keeps the softmax output: + 2·a·s²·b bytes (the paper's 5·a·s²·b less its dropout mask and output)
    assert activation_bytes_per_layer(gpt, s, b, 2, flash=False) == 32 * s * b * h + 2 * a * s * s * b


def test_checkpointing_keeps_only_layer_inputs_plus_one_layer():
    s, b = 2048, 1
    full = training_activation_bytes(LLAMA8B, s, b, 2, checkpointing=False)
    ckpt = training_activation_bytes(LLAMA8B, s, b, 2, checkpointing=True)
    layer = activation_bytes_per_layer(LLAMA8B, s, b, 2)
    assert full - ckpt == pytest.approx((LLAMA8B.layers - 1) * layer - LLAMA8B.layers * 2 * s * b * LLAMA8B.hidden_size)
    assert ckpt < full / 4


def saved_activation_bytes(arch: ArchSpec, seq_len: int, batch: int) -> int:
    """Every tensor autograd saves for backward in a bf16 forward and loss, parameters excluded, each storage once."""
    torch.manual_seed(0)
    model = reference_model(arch, device="cpu", dtype=torch.bfloat16)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    tokens = torch.randint(0, arch.vocab_size, (batch, seq_len))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        logits = model(tokens)
        torch.nn.functional.cross_entropy(logits.float().view(-1, arch.vocab_size), tokens.view(-1))
    return sum(saved.values())


@pytest.mark.parametrize(
    "arch",
    [
        ArchSpec(4, 256, 8, 2, 688, 1000),
        ArchSpec(4, 256, 8, 8, 1024, 1000, mlp="plain", norm="layernorm", linear_bias=True, learned_positions=256),
    ],
    ids=["llama", "gpt2"],
)
def test_activation_formula_matches_what_torch_saves(arch):
    """The independent check that runs without a GPU: autograd's saved tensors, counted on the CPU."""
    measured = saved_activation_bytes(arch, 256, 2)
    assert training_activation_bytes(arch, 256, 2, 2) == pytest.approx(measured, rel=0.08)


# ---- the estimate and the sharding ----


def train(**kw) -> Workload:
    return Workload(**{"mode": "full", "dtype": "bf16", "seq_len": 2048, **kw})


def test_estimate_parts_add_up_with_the_stated_overhead():
    est = estimate(LLAMA8B, train())
    n = param_count(LLAMA8B)
    assert est.parts["weights"] == 2 * n and est.parts["gradients"] == 2 * n and est.parts["optimizer states"] == 12 * n
    assert est.parts["KV cache"] == 0
    assert est.parts["framework overhead"] == pytest.approx(500 * MIB + 0.10 * est.tensor_bytes)
    assert est.total_bytes == pytest.approx(sum(est.parts.values()))


def test_inference_has_no_training_state():
    est = estimate(LLAMA8B, Workload("inference", "bf16", seq_len=8192))
    assert est.parts["gradients"] == est.parts["optimizer states"] == 0
    assert est.parts["KV cache"] == GIB
    assert est.trainable_params == 0


def test_zero_stages_shard_what_they_promise():
    one = estimate(LLAMA8B, train()).parts
    for stage, sharded in {"zero1": {"optimizer states"}, "zero2": {"optimizer states", "gradients"}}.items():
        parts = estimate(LLAMA8B, train(n_gpus=8, parallelism=stage)).parts
        for k in ("weights", "gradients", "optimizer states", "activations"):
            assert parts[k] == pytest.approx(one[k] / 8 if k in sharded else one[k])
    z3 = estimate(LLAMA8B, train(n_gpus=8, parallelism="zero3")).parts
    one_layer = 2 * (param_counts(LLAMA8B).block_linear + param_counts(LLAMA8B).block_other) / LLAMA8B.layers
    assert z3["weights"] == pytest.approx(one["weights"] / 8 + one_layer)  # + the layer being gathered
    assert z3["activations"] == one["activations"]  # ZeRO does not shard activations
    dp = estimate(LLAMA8B, train(n_gpus=8, parallelism="data"))
    assert dp.parts == estimate(LLAMA8B, train()).parts and "full copy" in dp.notes[0]


def test_tensor_parallel_splits_everything_and_kv_up_to_kv_heads():
    one = estimate(LLAMA70B, Workload("inference", "bf16", seq_len=8192)).parts
    tp4 = estimate(LLAMA70B, Workload("inference", "bf16", seq_len=8192, n_gpus=4, parallelism="tensor")).parts
    assert tp4["weights"] == pytest.approx(one["weights"] / 4)
    assert tp4["KV cache"] == pytest.approx(one["KV cache"] / 4)
    tiny = estimate(TINY_LLAMA, Workload("inference", "bf16", n_gpus=8, parallelism="tensor")).parts  # 2 KV heads
    assert tiny["KV cache"] == pytest.approx(kv_cache_bytes(TINY_LLAMA, 4096, 1) / 2)


def test_lora_and_qlora_train_only_the_adapters():
    lora = estimate(LLAMA8B, train(mode="lora", lora_rank=16))
    assert lora.trainable_params == 41_943_040
    assert lora.parts["optimizer states"] == 12 * 41_943_040 and lora.parts["gradients"] == 2 * 41_943_040
    qlora = estimate(LLAMA8B, train(mode="qlora", dtype="int4", lora_rank=16))
    assert qlora.parts["weights"] == pytest.approx(weight_bytes(LLAMA8B, "int4") + 2 * 41_943_040)
    assert qlora.parts["weights"] < lora.parts["weights"] / 2


@pytest.mark.parametrize(
    ("arch", "wl", "words"),
    [
        (LLAMA8B, Workload("full", "int4"), "choose QLoRA"),
        (LLAMA8B, Workload("qlora", "bf16"), "int4 or int8"),
        (LLAMA8B, Workload("inference", n_gpus=2, parallelism="zero3"), "for inference"),
        (LLAMA8B, Workload("inference", n_gpus=3, parallelism="tensor"), "32 heads do not divide among 3"),
        (LLAMA8B, Workload("inference", seq_len=0), "seq_len must be a positive"),
        (ArchSpec(2, 100, 3, 2, 10, 10), Workload(), "multiple of KV heads"),
    ],
)
def test_bad_settings_raise_an_actionable_error(arch, wl, words):
    with pytest.raises(MemoryConfigError, match=words):
        estimate(arch, wl)


# ---- verdicts ----

RTX4090 = GPU_CARDS["GeForce RTX 4090 (24 GB)"].memory_bytes
H100 = GPU_CARDS["NVIDIA H100 (80 GB)"].memory_bytes
T4 = GPU_CARDS["NVIDIA T4 (16 GB)"].memory_bytes


def test_llama_8b_inference_fits_one_4090():
    v = verdict(LLAMA8B, Workload("inference", "bf16", seq_len=8192), RTX4090)
    assert v.fits and v.kind == "fits" and v.headline.startswith("Fits on one GPU") and v.headroom_bytes > 0


def test_llama_70b_inference_needs_two_h100s_with_tensor_parallel():
    v = verdict(LLAMA70B, Workload("inference", "bf16", seq_len=8192), H100)
    assert not v.fits and v.kind == "more_gpus"
    assert "2 GPUs with tensor parallel" in v.headline
    assert any("int4" in f.change for f in v.fixes)  # and 4-bit on one card
    assert all(f.total_bytes <= H100 for f in v.fixes)


def test_llama_70b_on_t4_fits_only_quantized():
    v = verdict(LLAMA70B, Workload("inference", "bf16", seq_len=8192), T4)
    assert v.kind == "quantize_or_lora" and "Fits only with" in v.headline


def test_full_fine_tune_of_8b_on_a_4090_names_what_would_fit():
    v = verdict(LLAMA8B, train(seq_len=8192), RTX4090)
    assert not v.fits
    changes = [f.change for f in v.fixes]
    assert any("ZeRO-3" in c for c in changes) and any(c.startswith("QLoRA") for c in changes)
    for f in v.fixes:  # every fix really fits
        assert estimate(LLAMA8B, f.workload).total_bytes == f.total_bytes <= RTX4090


def test_checkpointing_is_offered_first_when_it_is_enough():
    v = verdict(MODEL_PRESETS["Llama-3.2-1B"].arch, train(seq_len=2048), RTX4090)  # 26.3 GiB as set
    assert v.kind == "same_gpus" and "activation checkpointing" in v.headline


def test_hopeless_settings_say_how_far_to_shorten():
    v = verdict(LLAMA70B, train(seq_len=131072, batch=8), T4)
    assert v.kind == "no" and ("sequences of" in v.headline or "more memory" in v.headline)


def test_explain_has_a_row_per_part():
    rows = explain(estimate(LLAMA8B, train()))
    assert [r["part"] for r in rows][:3] == ["weights", "gradients", "optimizer states"]
    assert "fp32 master copy + two fp32 moments" in rows[2]["how"]


def test_memory_figure_stacks_parts_against_the_gpu():
    est = estimate(LLAMA8B, Workload("inference", "bf16"))
    fig = memory_figure([("Your settings", est.gib()), ("int4", est.gib())], 24.0, "RTX 4090")
    assert fig["layout"]["barmode"] == "stack"
    names = [t["name"] for t in fig["data"]]
    assert names == ["weights", "activations", "KV cache", "framework overhead"]  # parts that are zero are left out
    assert fig["layout"]["shapes"][0]["x0"] == 24.0 and "24.0 GiB" in fig["layout"]["annotations"][0]["text"]
    label, legend = fig["layout"]["annotations"][0], fig["layout"]["legend"]
    assert legend["y"] >= 1 and legend["yanchor"] == "bottom"  # above the plot: the tick labels below stay readable
    assert label["yanchor"] == "top" and label["xanchor"] == "right"  # inside, left of a line near the edge: never cut off
    wide = memory_figure([("Your settings", {"weights": 60.0})], 24.0, "RTX 4090")["layout"]["annotations"][0]
    assert wide["xanchor"] == "left"  # a line in the chart's left half: the label to its right


def test_memory_module_does_not_import_torch():
    """The server imports core.fit: torch there makes every frame's GC pass slow (DESIGN.md)."""
    code = "import sys, core.fit, core.fit.presets, core.fit.figures\nassert 'torch' not in sys.modules, 'torch was imported'\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
