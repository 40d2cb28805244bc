"""Verdicts on an EnvReport: what is wrong, how bad, and the fix.

Pure functions of the report and the tables in core.env.cuda_tables: no torch, no NVML, so the server can call them
and the tests can drive them over a grid of (driver, compute capability, OS) cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.env.cuda_tables import (
    arch_list_covers,
    driver_tier,
    min_driver,
    parse_version,
    show,
    tags_for_cc,
)
from core.env.install import first_command
from core.env.report import EnvReport, shown
from core.i18n import _

Severity = Literal["error", "warning", "info", "ok"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}


@dataclass(frozen=True)
class Verdict:
    """Made in the current language each time verdicts() runs (the report itself holds no translated text)."""

    code: str  # stable id, e.g. "driver_too_old"
    severity: Severity
    title: str
    detail: str = ""
    fix: str = ""  # a command or an action; empty when nothing needs doing


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
    return [Verdict("torch_missing", "error", _("torch is not installed (or cannot be imported)"), fix=first_command(r))]


def _nvml(r: EnvReport) -> list[Verdict]:
    if r.nvml_error == "NvmlDriverMismatch":
        return [
            Verdict(
                "driver_mismatch",
                "error",
                _("NVIDIA driver and kernel module disagree: reboot needed"),
                shown(r.nvml_status),
                _("Reboot the machine."),
            )
        ]
    if r.nvml_error == "NvmlFunctionNotFound":
        return [Verdict("nvml_function_missing", "warning", _("The driver is older than nvidia-ml-py expects"), shown(r.nvml_status))]
    if r.nvml_error == "NvmlUnavailable" and "not installed" in r.nvml_status:
        return [
            Verdict(
                "nvml_missing",
                "info",
                _("nvidia-ml-py is not installed: GPU details come from torch only"),
                fix="pip install nvidia-ml-py",
            )
        ]
    if r.nvml_error and r.nvml_error not in ("NvmlLibraryNotFound", "NvmlUnavailable"):
        return [Verdict("nvml_failed", "warning", _("NVML could not be read"), shown(r.nvml_status))]
    return []


def _no_gpu(r: EnvReport) -> list[Verdict]:
    if r.gpus:
        return []
    if r.mps_available:
        return [Verdict("mps", "ok", _("Apple GPU (MPS) available: training will use it"))]
    return [
        Verdict(
            "no_gpu",
            "info",
            _("No NVIDIA GPU found: training uses the CPU"),
            _(
                "That is a normal setup, not an error: every lesson and the seed's house-price model train in seconds on a CPU. "
                "To use an NVIDIA GPU, install its driver and a CUDA build of torch."
            ),
        )
    ]


def _cpu_torch_with_gpu(r: EnvReport) -> list[Verdict]:
    if not (r.gpus and r.torch_build == "cpu"):
        return []
    if "+cpu" in (r.torch_version or ""):
        title = _("torch {version} is a +cpu build, but this machine has an NVIDIA GPU", version=r.torch_version)
    else:
        title = _("torch {version} is a CPU-only build, but this machine has an NVIDIA GPU", version=r.torch_version)
    return [
        Verdict(
            "cpu_torch_with_gpu",
            "error",
            title,
            _("{gpu} sits idle: torch.version.cuda is None. Reinstall torch from the CUDA index.", gpu=r.gpus[0].name),
            first_command(r),
        )
    ]


def _driver_too_old(r: EnvReport) -> list[Verdict]:
    cuda = parse_version(r.torch_cuda)
    if r.torch_build != "cuda" or cuda is None or not (r.driver_version or r.cuda_driver_version):
        return []
    need = min_driver(cuda, r.os_name)
    tier = driver_tier(cuda, r.driver_version, r.os_name) if r.driver_version else None
    if tier is None and r.driver_version is None:  # only NVML's CUDA number: compare that
        dc = r.driver_cuda()
        tier = "strict" if dc and dc >= cuda[:2] else None
    has = {"driver": r.driver_version or "?", "driver_cuda": r.cuda_driver_version or "?", "cuda": r.torch_cuda}
    if tier == "strict":
        return []
    if tier == "minor":
        return [
            Verdict(
                "driver_minor_compat",
                "warning",
                _(
                    "The driver {driver} (supports CUDA {driver_cuda}) runs torch's CUDA {cuda} only through minor-version compatibility",
                    **has,
                ),
                _("Most of torch works; code that needs PTX JIT compilation or newer driver features can fail."),
                _(
                    "Update the NVIDIA driver to {need} or newer, or install the wheel the driver fully supports: {command}",
                    need=need,
                    command=first_command(r),
                ),
            )
        ]
    return [
        Verdict(
            "driver_too_old",
            "error",
            _("The driver {driver} (supports CUDA {driver_cuda}) is too old for torch's CUDA {cuda}", **has),
            _(
                "CUDA {cuda} needs driver {need} or newer on {os}; torch.cuda.is_available() is False.",
                cuda=show(cuda[:2]),
                need=need,
                os=r.os_name or _("this OS"),
            ),
            _(
                "Update the NVIDIA driver to {need} or newer, or install a torch built for an older CUDA: {command}",
                need=need,
                command=first_command(r),
            ),
        )
    ]


def _arch_missing(r: EnvReport) -> list[Verdict]:
    if r.torch_build != "cuda" or not r.arch_list:
        return []
    out = []
    for i, name, cc in r.gpu_ccs():
        if arch_list_covers(r.arch_list, cc):
            continue
        tags = tags_for_cc(cc, r.os_name)
        hint = (
            _("sm_{cc} needs one of: {tags}.", cc=cc, tags=", ".join(tags))
            if tags
            else _("No wheel in the table supports sm_{cc}; check pytorch.org for a newer release.", cc=cc)
        )
        if cc < 75:
            hint += " " + _("CUDA 13 wheels (cu130+) dropped sm_50–72: use cu126, last published for torch 2.14.")
        out.append(
            Verdict(
                "arch_missing",
                "error",
                _("GPU {index} ({name}, sm_{cc}) is not in this torch's architecture list", index=i, name=name, cc=cc),
                _(
                    "torch {version} was built for {archs}; kernels fail with 'no kernel image is available'. {hint}",
                    version=r.torch_version,
                    archs=", ".join(r.arch_list),
                    hint=hint,
                ),
                first_command(r),
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
            _("torch is a CUDA build and a GPU is present, yet torch.cuda.is_available() is False"),
            _(
                "Common causes: the nvidia kernel module is not loaded, /dev/nvidia* is not accessible (containers need the "
                "NVIDIA container toolkit and --gpus all), or the GPU is in a bad state (check nvidia-smi)."
            ),
            _("Run nvidia-smi; in a container start it with --gpus all."),
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
            _("nvcc is CUDA {nvcc} but torch uses CUDA {cuda}", nvcc=r.nvcc_version, cuda=r.torch_cuda),
            _(
                "This matters only when you build CUDA extensions (e.g. pip install of a package with custom kernels): "
                "they must be compiled with the same CUDA major as torch. torch itself uses its bundled runtime."
            ),
            _("Only if you build extensions: install CUDA toolkit {major}.x and put its nvcc first on PATH.", major=cuda[0]),
        )
    ]


def _deprecated_pynvml(r: EnvReport) -> list[Verdict]:
    if "pynvml" not in r.nvml_packages:
        return []
    return [
        Verdict(
            "pynvml_deprecated",
            "warning",
            _("The deprecated pynvml package ({version}) is installed", version=r.nvml_packages["pynvml"]),
            _(
                "NVIDIA's official bindings are nvidia-ml-py. Old pynvml releases install a pynvml.py module of their own that "
                "can shadow nvidia-ml-py's (both are imported as `pynvml`), so which one you get depends on install order."
            ),
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
                    _("CUDA_VISIBLE_DEVICES={visible} hides every GPU from torch", visible=repr(visible)),
                    fix="unset CUDA_VISIBLE_DEVICES",
                )
            )
        else:
            out.append(
                Verdict(
                    "visible_devices",
                    "info",
                    _("CUDA_VISIBLE_DEVICES={visible}: torch sees {n} GPU(s), renumbered from 0", visible=visible, n=len(ids)),
                    _(
                        "torch's cuda:0 is what CUDA calls device {device}; nvidia-smi ignores this variable and lists every GPU.",
                        device=ids[0],
                    ),
                )
            )
    if len(r.gpus) > 1 and r.env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        out.append(
            Verdict(
                "device_order",
                "warning",
                _("torch and nvidia-smi may number these GPUs differently"),
                _(
                    "CUDA orders GPUs fastest first by default (CUDA_DEVICE_ORDER=FASTEST_FIRST); nvidia-smi orders them by PCI "
                    "bus. On a machine with mixed GPUs, cuda:0 may not be nvidia-smi's GPU 0."
                ),
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
            _("{n} copies of torch are on the path", n=len(r.torch_locations)),
            _("Python imports the first one; pip may upgrade another. Found in: {places}", places="; ".join(r.torch_locations)),
            "python -m pip uninstall -y torch   # " + _("repeat until pip says it is not installed, then reinstall once"),
        )
    ]


def _rocm(r: EnvReport) -> list[Verdict]:
    if r.torch_build != "rocm":
        return []
    return [
        Verdict(
            "rocm", "info", _("torch is a ROCm build (HIP {hip})", hip=r.torch_hip), _("The NVIDIA checks here do not apply to AMD GPUs.")
        )
    ]


def _ready(r: EnvReport) -> list[Verdict]:
    if not r.cuda_available:
        return []
    name = r.gpus[0].name if r.gpus else _("the GPU")
    return [Verdict("ready", "ok", _("Ready: torch {version} trains on {name} (cuda:0)", version=r.torch_version, name=name))]


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
