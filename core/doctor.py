"""Verdicts on an EnvReport (what is wrong, how bad, the fix) and the exact pip command for this machine.

Pure functions of the report and the table in core.cuda_compat: no torch, no NVML, so the server can call them
and the tests can drive them over a grid of (driver, compute capability, OS) cases.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from core.cuda_compat import (
    INDEX_URL,
    LATEST_TORCH,
    TORCH_RELEASES,
    WHEEL_TAGS,
    arch_list_covers,
    cc_int,
    cuda_from_driver,
    driver_tier,
    last_release_for,
    min_driver,
    parse_version,
    pinned_torch,
    runs_on,
    show,
    tags_for_cc,
    torch_minor,
)

if TYPE_CHECKING:
    from core.environment import EnvReport

Severity = Literal["error", "warning", "info", "ok"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}


@dataclass(frozen=True)
class Verdict:
    code: str  # stable id, e.g. "driver_too_old"
    severity: Severity
    title: str
    detail: str = ""
    fix: str = ""  # a command or an action; empty when nothing needs doing


@dataclass(frozen=True)
class Advice:
    torch_version: str  # "2.13.0"
    label: str  # "pinned in requirements.txt" / "latest release"
    tag: str | None  # "cu130", "cpu", or None (plain PyPI: macOS)
    command: str
    why: str


NOTES = (
    "The torch wheels bundle the CUDA runtime, cuDNN and NCCL: only the NVIDIA driver must be new enough. "
    "The CUDA toolkit (nvcc) is optional, needed only to compile CUDA extensions.",
    "PyPI mirrors (a company or regional mirror of pypi.org) carry only PyPI's torch: a CUDA build on Linux, CPU-only on "
    "Windows. The cpu/cuXXX builds live only on download.pytorch.org, so use --index-url as shown (or mirror that index too).",
)


def _gpu_ccs(report: EnvReport) -> list[tuple[int, str, int]]:
    """(index, name, cc as 86) for each GPU whose compute capability is known."""
    return [(g.index, g.name, c) for g in report.gpus if (c := cc_int(g.compute_capability)) is not None]


def _driver_cuda(report: EnvReport) -> tuple[int, ...] | None:
    return parse_version(report.cuda_driver_version) or cuda_from_driver(report.driver_version, report.os_name)


# ---------------------------------------------------------------------------------------------------- verdicts


def verdicts(report: EnvReport) -> list[Verdict]:
    """Every rule that applies, worst first."""
    out: list[Verdict] = []
    for rule in RULES:
        out += rule(report)
    return sorted(out, key=lambda v: SEVERITY_ORDER[v.severity])


def _torch_missing(r: EnvReport) -> list[Verdict]:
    if r.torch_version:
        return []
    return [Verdict("torch_missing", "error", "torch is not installed (or cannot be imported)", fix=_first_command(r))]


def _nvml(r: EnvReport) -> list[Verdict]:
    if r.nvml_error == "NvmlDriverMismatch":
        return [
            Verdict(
                "driver_mismatch", "error", "NVIDIA driver and kernel module disagree: reboot needed", r.nvml_status, "Reboot the machine."
            )
        ]
    if r.nvml_error == "NvmlFunctionNotFound":
        return [Verdict("nvml_function_missing", "warning", "The driver is older than nvidia-ml-py expects", r.nvml_status)]
    if r.nvml_error == "NvmlUnavailable" and "not installed" in r.nvml_status:
        return [
            Verdict(
                "nvml_missing", "info", "nvidia-ml-py is not installed: GPU details come from torch only", fix="pip install nvidia-ml-py"
            )
        ]
    if r.nvml_error and r.nvml_error not in ("NvmlLibraryNotFound", "NvmlUnavailable"):
        return [Verdict("nvml_failed", "warning", "NVML could not be read", r.nvml_status)]
    return []


def _no_gpu(r: EnvReport) -> list[Verdict]:
    if r.gpus:
        return []
    if r.mps_available:
        return [Verdict("mps", "ok", "Apple GPU (MPS) available: training will use it")]
    return [
        Verdict(
            "no_gpu",
            "info",
            "No NVIDIA GPU found: training uses the CPU",
            "That is a normal setup, not an error: every lesson and the seed's house-price model train in seconds on a CPU. "
            "To use an NVIDIA GPU, install its driver and a CUDA build of torch.",
        )
    ]


def _cpu_torch_with_gpu(r: EnvReport) -> list[Verdict]:
    if not (r.gpus and r.torch_build == "cpu"):
        return []
    tag = "a +cpu build" if "+cpu" in (r.torch_version or "") else "a CPU-only build"
    return [
        Verdict(
            "cpu_torch_with_gpu",
            "error",
            f"torch {r.torch_version} is {tag}, but this machine has an NVIDIA GPU",
            f"{r.gpus[0].name} sits idle: torch.version.cuda is None. Reinstall torch from the CUDA index.",
            _first_command(r),
        )
    ]


def _driver_too_old(r: EnvReport) -> list[Verdict]:
    cuda = parse_version(r.torch_cuda)
    if r.torch_build != "cuda" or cuda is None or not (r.driver_version or r.cuda_driver_version):
        return []
    need = min_driver(cuda, r.os_name)
    tier = driver_tier(cuda, r.driver_version, r.os_name) if r.driver_version else None
    if tier is None and r.driver_version is None:  # only NVML's CUDA number: compare that
        dc = _driver_cuda(r)
        tier = "strict" if dc and dc >= cuda[:2] else None
    has = f"driver {r.driver_version or '?'} (supports CUDA {r.cuda_driver_version or '?'})"
    if tier == "strict":
        return []
    if tier == "minor":
        return [
            Verdict(
                "driver_minor_compat",
                "warning",
                f"The {has} runs torch's CUDA {r.torch_cuda} only through minor-version compatibility",
                "Most of torch works; code that needs PTX JIT compilation or newer driver features can fail.",
                f"Update the NVIDIA driver to {need} or newer, or install the wheel the driver fully supports: {_first_command(r)}",
            )
        ]
    return [
        Verdict(
            "driver_too_old",
            "error",
            f"The {has} is too old for torch's CUDA {r.torch_cuda}",
            f"CUDA {show(cuda[:2])} needs driver {need} or newer on {r.os_name or 'this OS'}; torch.cuda.is_available() is False.",
            f"Update the NVIDIA driver to {need} or newer, or install a torch built for an older CUDA: {_first_command(r)}",
        )
    ]


def _arch_missing(r: EnvReport) -> list[Verdict]:
    if r.torch_build != "cuda" or not r.arch_list:
        return []
    out = []
    for i, name, cc in _gpu_ccs(r):
        if arch_list_covers(r.arch_list, cc):
            continue
        tags = tags_for_cc(cc, r.os_name)
        hint = (
            f"sm_{cc} needs one of: {', '.join(tags)}."
            if tags
            else f"No wheel in the table supports sm_{cc}; check pytorch.org for a newer release."
        )
        if cc < 75:
            hint += " CUDA 13 wheels (cu130+) dropped sm_50–72: use cu126, last published for torch 2.14."
        out.append(
            Verdict(
                "arch_missing",
                "error",
                f"GPU {i} ({name}, sm_{cc}) is not in this torch's architecture list",
                f"torch {r.torch_version} was built for {', '.join(r.arch_list)}; kernels fail with 'no kernel image is available'. {hint}",
                _first_command(r),
            )
        )
    return out


def _cuda_unusable(r: EnvReport) -> list[Verdict]:
    """A CUDA build, a GPU, and still no CUDA, with no better explanation from the other rules."""
    if not (r.torch_build == "cuda" and r.gpus and not r.cuda_available):
        return []
    if _driver_too_old(r) or r.nvml_error or r.env.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return []
    return [
        Verdict(
            "cuda_unusable",
            "error",
            "torch is a CUDA build and a GPU is present, yet torch.cuda.is_available() is False",
            "Common causes: the nvidia kernel module is not loaded, /dev/nvidia* is not accessible (containers need the "
            "NVIDIA container toolkit and --gpus all), or the GPU is in a bad state (check nvidia-smi).",
            "Run nvidia-smi; in a container start it with --gpus all.",
        )
    ]


def _nvcc_mismatch(r: EnvReport) -> list[Verdict]:
    nvcc, cuda = parse_version(r.nvcc_version), parse_version(r.torch_cuda)
    if not (nvcc and cuda) or nvcc[0] == cuda[0]:
        return []
    return [
        Verdict(
            "nvcc_mismatch",
            "info",
            f"nvcc is CUDA {r.nvcc_version} but torch uses CUDA {r.torch_cuda}",
            "This matters only when you build CUDA extensions (e.g. pip install of a package with custom kernels): "
            "they must be compiled with the same CUDA major as torch. torch itself uses its bundled runtime.",
            f"Only if you build extensions: install CUDA toolkit {cuda[0]}.x and put its nvcc first on PATH.",
        )
    ]


def _deprecated_pynvml(r: EnvReport) -> list[Verdict]:
    if "pynvml" not in r.nvml_packages:
        return []
    return [
        Verdict(
            "pynvml_deprecated",
            "warning",
            f"The deprecated pynvml package ({r.nvml_packages['pynvml']}) is installed",
            "NVIDIA's official bindings are nvidia-ml-py. Old pynvml releases install a pynvml.py module of their own that "
            "can shadow nvidia-ml-py's (both are imported as `pynvml`), so which one you get depends on install order.",
            "pip uninstall -y pynvml && pip install --force-reinstall nvidia-ml-py",
        )
    ]


def _device_numbering(r: EnvReport) -> list[Verdict]:
    out = []
    visible = r.env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
        if not ids or ids[0] == "-1":
            out.append(
                Verdict(
                    "no_visible_devices",
                    "warning",
                    f"CUDA_VISIBLE_DEVICES={visible!r} hides every GPU from torch",
                    fix="unset CUDA_VISIBLE_DEVICES",
                )
            )
        else:
            out.append(
                Verdict(
                    "visible_devices",
                    "info",
                    f"CUDA_VISIBLE_DEVICES={visible}: torch sees {len(ids)} GPU(s), renumbered from 0",
                    f"torch's cuda:0 is what CUDA calls device {ids[0]}; nvidia-smi ignores this variable and lists every GPU.",
                )
            )
    if len(r.gpus) > 1 and r.env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        out.append(
            Verdict(
                "device_order",
                "warning",
                "torch and nvidia-smi may number these GPUs differently",
                "CUDA orders GPUs fastest first by default (CUDA_DEVICE_ORDER=FASTEST_FIRST); nvidia-smi orders them by PCI "
                "bus. On a machine with mixed GPUs, cuda:0 may not be nvidia-smi's GPU 0.",
                "export CUDA_DEVICE_ORDER=PCI_BUS_ID",
            )
        )
    return out


def _multiple_torch(r: EnvReport) -> list[Verdict]:
    if len(r.torch_locations) < 2:
        return []
    return [
        Verdict(
            "multiple_torch",
            "error",
            f"{len(r.torch_locations)} copies of torch are on the path",
            "Python imports the first one; pip may upgrade another. Found in: " + "; ".join(r.torch_locations),
            "python -m pip uninstall -y torch   # repeat until pip says it is not installed, then reinstall once",
        )
    ]


def _rocm(r: EnvReport) -> list[Verdict]:
    if r.torch_build != "rocm":
        return []
    return [Verdict("rocm", "info", f"torch is a ROCm build (HIP {r.torch_hip})", "The NVIDIA checks here do not apply to AMD GPUs.")]


def _ready(r: EnvReport) -> list[Verdict]:
    if not r.cuda_available:
        return []
    name = r.gpus[0].name if r.gpus else "the GPU"
    return [Verdict("ready", "ok", f"Ready: torch {r.torch_version} trains on {name} (cuda:0)")]


RULES = (
    _torch_missing,
    _nvml,
    _no_gpu,
    _cpu_torch_with_gpu,
    _driver_too_old,
    _arch_missing,
    _cuda_unusable,
    _nvcc_mismatch,
    _deprecated_pynvml,
    _device_numbering,
    _multiple_torch,
    _rocm,
    _ready,
)

# ---------------------------------------------------------------------------------------------- install advice


def advise(report: EnvReport, version: str, label: str = "") -> Advice:
    """The pip command for torch `version` on this machine, and why that wheel tag."""
    os_name = report.os_name
    if os_name == "Darwin":
        return Advice(
            version,
            label,
            None,
            f"pip install torch=={version}",
            "macOS wheels come from PyPI and have no CUDA; on Apple silicon they use the GPU through MPS.",
        )
    spec = f'"torch=={version}"' if "*" in version else f"torch=={version}"  # quote a wildcard from the shell
    cpu_cmd = f"pip install {spec} --index-url {INDEX_URL}cpu"
    if not report.gpus:
        return Advice(
            version,
            label,
            "cpu",
            cpu_cmd,
            "No NVIDIA GPU found: the CPU wheel is a fraction of the CUDA wheel's size and trains every lesson here.",
        )
    release = TORCH_RELEASES.get(torch_minor(version))
    if release is None:
        return Advice(
            version, label, None, f"pip install torch=={version}", f"torch {version} is not in this app's table; see pytorch.org."
        )
    ccs = [cc for _, _, cc in _gpu_ccs(report)]
    covering = [t for t in release.tags if all(runs_on(WHEEL_TAGS[t], cc, os_name) for cc in ccs)]
    if not covering:
        missing = sorted({cc for cc in ccs if not any(runs_on(WHEEL_TAGS[t], cc, os_name) for t in release.tags)})
        last = last_release_for(missing[0], os_name) if missing else None
        sm = ", ".join(f"sm_{c}" for c in missing)
        if last:
            older = advise(report, f"{last}.*", label)
            return replace(
                older, why=f"No torch {version} wheel has kernels for {sm}; torch {last} is the newest release that does. {older.why}"
            )
        return Advice(version, label, "cpu", cpu_cmd, f"No torch wheel in the table has kernels for {sm}; the CPU build works.")
    gpus_text = ", ".join(f"sm_{c}" for c in sorted(set(ccs))) or "your GPU"
    dc = _driver_cuda(report)

    def cmd(tag: str) -> str:
        return f"pip install {spec} --index-url {INDEX_URL}{tag}"

    if dc is None:
        tag = release.pypi_linux if release.pypi_linux in covering else covering[-1]
        return Advice(version, label, tag, cmd(tag), f"The driver's CUDA version is unknown; {tag} is torch {version}'s default build.")
    strict = [t for t in covering if WHEEL_TAGS[t].cuda <= dc]
    if strict:
        tag = strict[-1]
        return Advice(
            version,
            label,
            tag,
            cmd(tag),
            f"The newest CUDA build of torch {version} that your driver fully supports (it supports up to CUDA {show(dc)}) "
            f"and that has kernels for {gpus_text}.",
        )
    minor = [t for t in covering if driver_tier(WHEEL_TAGS[t].cuda, report.driver_version, os_name) == "minor"]
    if minor:
        tag = minor[0]
        need = min_driver(WHEEL_TAGS[tag].cuda, os_name)
        return Advice(
            version,
            label,
            tag,
            cmd(tag),
            f"Your driver supports CUDA {show(dc)}, older than every build of torch {version}; {tag} runs on it through "
            f"minor-version compatibility. Update the driver to {need} or newer for full support.",
        )
    tag = covering[0]
    need = min_driver(WHEEL_TAGS[tag].cuda, os_name)
    return Advice(
        version,
        label,
        tag,
        cmd(tag),
        f"Your driver ({report.driver_version or '?'}, CUDA {show(dc)}) is too old for every CUDA build of torch {version}: "
        f"update the NVIDIA driver to {need} or newer first, then run this. Until then, the CPU build works: {cpu_cmd}",
    )


def install_advice(report: EnvReport) -> list[Advice]:
    """Commands for the torch pinned in requirements.txt and for the latest release (one if they agree)."""
    pinned = pinned_torch()
    out = [advise(report, pinned, "pinned in requirements.txt")] if pinned else []
    if LATEST_TORCH != pinned:
        out.append(advise(report, LATEST_TORCH, "latest release"))
    return out


def _first_command(r: EnvReport) -> str:
    advice = install_advice(r)
    return advice[0].command if advice else "pip install torch"


# ---------------------------------------------------------------------------------------------------- markdown

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


def gpu_rows(g) -> list[tuple[str, str]]:  # noqa: ANN001 - core.nvml.GPU; kept untyped to avoid an import cycle
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
