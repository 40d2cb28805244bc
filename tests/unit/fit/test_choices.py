"""What the memory page offers and shows besides the estimate: the GPU picker, the fixes table, the chart's bars."""

from core.env.nvml import GPU
from core.fit import Workload, estimate, verdict
from core.fit.arch import GIB
from core.fit.presets import GPU_CARDS, MODEL_PRESETS, card_choices, detected_cards
from core.fit.verdict import bars, fix_rows

LLAMA8B = MODEL_PRESETS["Llama-3.1-8B"].arch
T4 = GPU_CARDS["NVIDIA T4 (16 GB)"].memory_bytes


def test_detected_gpus_offer_their_free_memory_and_unread_ones_are_left_out():
    gpus = [
        GPU(0, "NVIDIA H100", memory_total_bytes=80 * GIB, memory_used_bytes=20 * GIB),
        GPU(1, "NVIDIA L4", memory_total_bytes=24 * GIB),  # used not read: all free
        GPU(2, "mystery"),  # memory not read at all
    ]
    assert detected_cards(gpus) == {"GPU 0: NVIDIA H100, 60.0 GiB free": 60 * GIB, "GPU 1: NVIDIA L4, 24.0 GiB free": 24 * GIB}


def test_the_picker_lists_this_machines_gpus_before_the_known_cards():
    choices = card_choices({"GPU 0: NVIDIA H100, 60.0 GiB free": 60 * GIB})
    assert list(choices)[0] == "GPU 0: NVIDIA H100, 60.0 GiB free"
    assert list(choices)[1:] == list(GPU_CARDS) and choices["NVIDIA T4 (16 GB)"] == T4
    assert list(card_choices({})) == list(GPU_CARDS)


def test_fix_rows_and_bars_follow_the_verdicts_fixes():
    wl = Workload(mode="full", dtype="bf16", seq_len=4096, batch=4)
    result = verdict(LLAMA8B, wl, T4)
    assert not result.fits and len(result.fixes) > 1
    assert fix_rows(result) == [{"change": f.change, "GiB per GPU": round(f.total_bytes / GIB, 1)} for f in result.fixes]
    rows = bars(LLAMA8B, result, fixes_shown=2)
    assert [label for label, _ in rows][0] == "Your settings" and len(rows) == 3
    assert rows[0][1] == estimate(LLAMA8B, wl).gib()
    for (label, gib), fix in zip(rows[1:], result.fixes):
        assert label.replace("<br>", " ") == fix.change and all(len(line) <= 42 for line in label.split("<br>"))
        assert abs(sum(gib.values()) * GIB - fix.total_bytes) < 1  # re-estimated: the same bytes as the fix
