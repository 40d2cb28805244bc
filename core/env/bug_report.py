"""The environment report as a person pastes it into a bug report: Markdown or JSON, verdicts and advice included."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from core.env.doctor import Verdict, verdicts
from core.env.install import NOTES, Advice, already_installed, install_advice
from core.env.nvml import GPU
from core.env.report import EnvReport, shown
from core.i18n import N_, _

_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}
SEVERITY = {"error": N_("error"), "warning": N_("warning"), "info": N_("info"), "ok": N_("ok")}  # as a verdict's line names it


def render_markdown(r: EnvReport, found: list[Verdict], advice: list[Advice]) -> str:
    """The whole report as Markdown, ready to paste into a bug report, in the current language (commands as they are)."""
    lines = ["# " + _("Descent Lab environment report"), "", "## " + _("Verdicts"), ""]
    for v in found:
        severity = _(SEVERITY[v.severity])
        if v.detail:
            line = _("**{severity}: {title}**. {detail}", severity=severity, title=v.title, detail=v.detail)
        else:
            line = _("**{severity}: {title}**", severity=severity, title=v.title)
        lines.append(f"- {_ICON[v.severity]} {line}")
        if v.fix:
            lines.append("  - " + _("fix: `{fix}`", fix=v.fix))
    lines += ["", "## " + _("Install torch"), ""]
    for a in advice:
        if already_installed(r, a):
            lines.append(
                "- " + _("torch {version} ({label}): already installed here, nothing to do", version=a.torch_version, label=a.label)
            )
            continue
        lines += [
            "- " + _("torch {version} ({label}): `{command}`", version=a.torch_version, label=a.label, command=a.command),
            "  - " + _("why: {why}", why=a.why),
        ]
    lines += ["- " + _("note: {note}", note=_(n)) for n in NOTES]
    na = _("n/a")
    lines += [
        "",
        "## " + _("System"),
        "",
        "- " + _("Python {python} on {os}", python=r.python, os=r.os),
        "- "
        + _(
            "torch {version} ({build} build); torch.version.cuda {cuda}; cuDNN {cudnn}; NCCL {nccl}",
            version=r.torch_version or _("not installed"),
            build=r.torch_build or "?",
            cuda=r.torch_cuda or _("none"),
            cudnn=r.cudnn or na,
            nccl=r.nccl or na,
        ),
        "- "
        + _(
            "CUDA usable: {cuda}; training device: {device}; MPS: {mps}",
            cuda=_yes_no(r.cuda_available),
            device=r.training_device,
            mps=_yes_no(r.mps_available),
        ),
        "- " + _("arch list: {archs}", archs=", ".join(r.arch_list) or na),
        "- " + _("nvcc: {nvcc}", nvcc=r.nvcc_version or _("not on PATH")),
        "- "
        + _(
            "NVIDIA driver {driver} (highest CUDA {cuda}); NVML: {status}",
            driver=r.driver_version or na,
            cuda=r.cuda_driver_version or na,
            status=shown(r.nvml_status),
        ),
        "- " + _("NVML packages: {packages}", packages=", ".join(f"{k} {v}" for k, v in r.nvml_packages.items()) or _("none")),
        "- "
        + _(
            "environment: {variables}",
            variables=", ".join(f"{k}={v}" for k, v in r.env.items()) or _("CUDA_DEVICE_ORDER and CUDA_VISIBLE_DEVICES unset"),
        ),
        "- " + _("torch found in: {places}", places="; ".join(r.torch_locations) or na),
    ]
    for g in r.gpus:
        lines += ["", f"## GPU {g.index}: {g.name}", ""]
        lines += [f"- {label}: {value}" for label, value in gpu_rows(g)]
    if r.notes:
        lines += ["", "## " + _("Notes"), ""] + [f"- {shown(n)}" for n in r.notes]
    return "\n".join(lines) + "\n"


def _yes_no(flag: bool) -> str:
    return _("yes") if flag else _("no")


def _on_off(flag: bool) -> str:
    return _("on") if flag else _("off")


def _gib(nbytes: int | None) -> str:
    return "?" if nbytes is None else f"{nbytes / 2**30:.1f} GiB"


def gpu_rows(g: GPU) -> list[tuple[str, str]]:
    """Label → text for every GPU field, "N/A (reason)" where NVML could not say; labels in the current language."""
    gib = 2**30
    return [
        ("UUID", g.show("uuid")),
        (_("compute capability"), g.show("compute_capability")),
        (
            _("memory used / total"),
            f"{g.show('memory_used_bytes', lambda b: f'{b / gib:.1f}')} / {g.show('memory_total_bytes', lambda b: f'{b / gib:.1f} GiB')}",
        ),
        (
            _("utilization (GPU / memory)"),
            f"{g.show('utilization_pct', lambda v: f'{v} %')} / {g.show('memory_utilization_pct', lambda v: f'{v} %')}",
        ),
        (_("temperature"), g.show("temperature_c", lambda v: f"{v} °C")),
        (
            _("power draw / limit"),
            f"{g.show('power_draw_w', lambda v: f'{v:.0f} W')} / {g.show('power_limit_w', lambda v: f'{v:.0f} W')}",
        ),
        (
            _("clocks (SM / memory)"),
            f"{g.show('sm_clock_mhz', lambda v: f'{v} MHz')} / {g.show('memory_clock_mhz', lambda v: f'{v} MHz')}",
        ),
        (_("fan"), g.show("fan_pct", lambda v: f"{v} %")),
        ("PCIe", _("gen {generation} x{width}", generation=g.show("pcie_generation"), width=g.show("pcie_width"))),
        (_("persistence mode"), g.show("persistence_mode", _on_off)),
        (_("MIG mode"), g.show("mig_mode", _on_off)),
        (_("ECC errors (uncorrected, since boot)"), g.show("ecc_uncorrected")),
        (
            _("processes"),
            g.show(
                "processes",
                lambda ps: ", ".join(_("pid {pid} ({memory})", pid=p, memory=_gib(m)) for p, m in ps) or _("none"),
            ),
        ),
    ]


def report_dict(r: EnvReport) -> dict[str, Any]:
    """The report with its verdicts and install advice, as JSON-ready data: the probe's notes and NVML's
    failures as text in the current language, never the encoded messages the cached report keeps."""
    d = r.to_dict()
    d["notes"] = [shown(n) for n in d["notes"]]
    d["nvml_status"] = shown(d["nvml_status"])
    d["gpus"] = [{k: shown(v) if isinstance(v, str) else v for k, v in g.items()} for g in d["gpus"]]
    return {**d, "verdicts": [asdict(v) for v in verdicts(r)], "install_advice": [asdict(a) for a in install_advice(r)]}


def report_json(r: EnvReport) -> str:
    """The report with its verdicts and install advice, ready to paste into a bug report."""
    return json.dumps(report_dict(r), indent=2)


def report_markdown(r: EnvReport) -> str:
    """The report as Markdown in the current language (`env` on the command line, the page's download)."""
    return render_markdown(r, verdicts(r), install_advice(r))
