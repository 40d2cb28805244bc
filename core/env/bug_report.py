"""The environment report as a person pastes it into a bug report: Markdown or JSON, verdicts and advice included."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from core.env.doctor import Verdict, verdicts
from core.env.install import NOTES, Advice, already_installed, install_advice
from core.env.nvml import GPU
from core.env.report import EnvReport

_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}


def render_markdown(r: EnvReport, found: list[Verdict], advice: list[Advice]) -> str:
    """The whole report as Markdown, ready to paste into a bug report."""
    lines = ["# Descent Lab environment report", "", "## Verdicts", ""]
    for v in found:
        lines.append(f"- {_ICON[v.severity]} **{v.severity}: {v.title}**" + (f". {v.detail}" if v.detail else ""))
        if v.fix:
            lines.append(f"  - fix: `{v.fix}`")
    lines += ["", "## Install torch", ""]
    for a in advice:
        if already_installed(r, a):
            lines.append(f"- torch {a.torch_version} ({a.label}): already installed here, nothing to do")
            continue
        lines += [f"- torch {a.torch_version} ({a.label}): `{a.command}`", f"  - why: {a.why}"]
    lines += [f"- note: {n}" for n in NOTES]
    lines += [
        "",
        "## System",
        "",
        f"- Python {r.python} on {r.os}",
        f"- torch {r.torch_version or 'not installed'} ({r.torch_build or '?'} build); torch.version.cuda "
        f"{r.torch_cuda or 'none'}; cuDNN {r.cudnn or 'n/a'}; NCCL {r.nccl or 'n/a'}",
        f"- CUDA usable: {'yes' if r.cuda_available else 'no'}; training device: {r.training_device}; "
        f"MPS: {'yes' if r.mps_available else 'no'}",
        f"- arch list: {', '.join(r.arch_list) or 'n/a'}",
        f"- nvcc: {r.nvcc_version or 'not on PATH'}",
        f"- NVIDIA driver {r.driver_version or 'n/a'} (highest CUDA {r.cuda_driver_version or 'n/a'}); NVML: {r.nvml_status}",
        f"- NVML packages: {', '.join(f'{k} {v}' for k, v in r.nvml_packages.items()) or 'none'}",
        f"- environment: {', '.join(f'{k}={v}' for k, v in r.env.items()) or 'CUDA_DEVICE_ORDER and CUDA_VISIBLE_DEVICES unset'}",
        f"- torch found in: {'; '.join(r.torch_locations) or 'n/a'}",
    ]
    for g in r.gpus:
        lines += ["", f"## GPU {g.index}: {g.name}", ""]
        lines += [f"- {label}: {value}" for label, value in gpu_rows(g)]
    if r.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def gpu_rows(g: GPU) -> list[tuple[str, str]]:
    """Label → text for every GPU field, "N/A (reason)" where NVML could not say."""
    gib = 2**30
    return [
        ("UUID", g.show("uuid")),
        ("compute capability", g.show("compute_capability")),
        (
            "memory used / total",
            f"{g.show('memory_used_bytes', lambda b: f'{b / gib:.1f}')} / {g.show('memory_total_bytes', lambda b: f'{b / gib:.1f} GiB')}",
        ),
        (
            "utilization (GPU / memory)",
            f"{g.show('utilization_pct', lambda v: f'{v} %')} / {g.show('memory_utilization_pct', lambda v: f'{v} %')}",
        ),
        ("temperature", g.show("temperature_c", lambda v: f"{v} °C")),
        ("power draw / limit", f"{g.show('power_draw_w', lambda v: f'{v:.0f} W')} / {g.show('power_limit_w', lambda v: f'{v:.0f} W')}"),
        ("clocks (SM / memory)", f"{g.show('sm_clock_mhz', lambda v: f'{v} MHz')} / {g.show('memory_clock_mhz', lambda v: f'{v} MHz')}"),
        ("fan", g.show("fan_pct", lambda v: f"{v} %")),
        ("PCIe", f"gen {g.show('pcie_generation')} x{g.show('pcie_width')}"),
        ("persistence mode", g.show("persistence_mode", lambda v: "on" if v else "off")),
        ("MIG mode", g.show("mig_mode", lambda v: "on" if v else "off")),
        ("ECC errors (uncorrected, since boot)", g.show("ecc_uncorrected")),
        (
            "processes",
            g.show("processes", lambda ps: ", ".join(f"pid {p} ({'?' if m is None else f'{m / gib:.1f} GiB'})" for p, m in ps) or "none"),
        ),
    ]


def report_dict(r: EnvReport) -> dict[str, Any]:
    """The report with its verdicts and install advice, as JSON-ready data."""
    return {**r.to_dict(), "verdicts": [asdict(v) for v in verdicts(r)], "install_advice": [asdict(a) for a in install_advice(r)]}


def report_json(r: EnvReport) -> str:
    """The report with its verdicts and install advice, ready to paste into a bug report."""
    return json.dumps(report_dict(r), indent=2)


def report_markdown(r: EnvReport) -> str:
    return render_markdown(r, verdicts(r), install_advice(r))
