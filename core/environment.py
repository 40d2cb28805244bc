"""Probe torch, CUDA and the GPUs (through NVML) into a report. probe() never raises: a missing piece is a fact.

Torch is imported only inside functions: the Streamlit server imports this module for the dataclasses and must
never pay for torch (see DESIGN.md); the page runs probe() in a child process (`python -m core env --json`).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.nvml import GPU, HINTS, NA, Nvml, NvmlError, default_nvml, read_gpu

__all__ = ["GPU", "NA", "EnvReport", "probe"]

ENV_VARS = ("CUDA_DEVICE_ORDER", "CUDA_VISIBLE_DEVICES")


@dataclass
class EnvReport:
    python: str
    os: str
    os_name: str = ""  # platform.system(): "Linux", "Windows", "Darwin"
    torch_version: str | None = None
    torch_build: str | None = None  # "cuda", "rocm" or "cpu"
    torch_cuda: str | None = None  # the CUDA runtime the torch wheel bundles, torch.version.cuda
    torch_hip: str | None = None
    cuda_available: bool = False
    cuda_device_count: int = 0
    cudnn: int | None = None
    nccl: str | None = None
    arch_list: list[str] = field(default_factory=list)  # torch.cuda.get_arch_list()
    mps_available: bool = False
    nvcc_version: str | None = None  # only for building extensions: the wheels bundle their own runtime
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # the highest CUDA the driver supports, as nvidia-smi shows it
    nvml_status: str = "not probed"  # "ok", or why NVML could not be read
    nvml_error: str | None = None  # the NvmlError class that stopped NVML, e.g. "NvmlDriverMismatch"
    gpus: list[GPU] = field(default_factory=list)
    gpus_from: str = "nvml"  # "nvml" or "torch" (NVML unavailable)
    nvml_packages: dict[str, str] = field(default_factory=dict)  # installed "pynvml" / "nvidia-ml-py" → version
    env: dict[str, str] = field(default_factory=dict)  # CUDA_DEVICE_ORDER, CUDA_VISIBLE_DEVICES when set
    torch_locations: list[str] = field(default_factory=list)  # every sys.path entry holding a torch package
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def training_device(self) -> str:
        if self.cuda_available:
            return "cuda:0"
        return "mps" if self.mps_available else "cpu"

    def to_dict(self, with_verdicts: bool = False) -> dict[str, Any]:
        d = {**asdict(self), "training_device": self.training_device}
        if with_verdicts:
            from core.doctor import install_advice, verdicts

            d["verdicts"] = [asdict(v) for v in verdicts(self)]
            d["install_advice"] = [asdict(a) for a in install_advice(self)]
        return d

    def to_markdown(self) -> str:
        from core.doctor import install_advice, render_markdown, verdicts

        return render_markdown(self, verdicts(self), install_advice(self))

    def to_json(self) -> str:
        """The report with its verdicts and install advice, ready to paste into a bug report."""
        return json.dumps(self.to_dict(with_verdicts=True), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvReport:
        known = {f.name for f in fields(cls)}
        gpu_fields = {f.name for f in fields(GPU)}
        d = {k: v for k, v in d.items() if k in known}
        return cls(**{**d, "gpus": [GPU(**{k: v for k, v in g.items() if k in gpu_fields}) for g in d.get("gpus", [])]})


def probe(nvml: Nvml | None = None) -> EnvReport:
    """Everything the doctor needs. `nvml` is the injection point for tests; by default the real (or demo) NVML."""
    report = EnvReport(
        python=sys.version.split()[0], os=f"{platform.system()} {platform.release()} ({platform.machine()})", os_name=platform.system()
    )
    for step in (_probe_torch, _probe_nvcc, _probe_packages):
        try:
            step(report)
        except Exception as e:  # noqa: BLE001 - probe() never raises; an odd failure is a note
            report.notes.append(f"{step.__name__[7:]} could not be probed: {type(e).__name__}: {e}")
    try:
        _probe_nvml(report, nvml)
    except Exception as e:  # noqa: BLE001
        report.nvml_status = f"NVML query failed: {type(e).__name__}: {e}"
    return report


def _probe_torch(report: EnvReport) -> None:
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - a broken install is exactly what we report
        report.notes.append(f"torch cannot be imported: {type(e).__name__}: {e}")
        return
    report.torch_version = torch.__version__
    report.torch_cuda = torch.version.cuda
    report.torch_hip = getattr(torch.version, "hip", None)
    report.torch_build = "rocm" if report.torch_hip else "cuda" if report.torch_cuda else "cpu"
    try:
        report.cuda_available = torch.cuda.is_available()
        report.cuda_device_count = torch.cuda.device_count() if report.cuda_available else 0
        report.arch_list = list(torch.cuda.get_arch_list()) if report.torch_build != "cpu" else []
        report.cudnn = torch.backends.cudnn.version() if report.cuda_available else None
        if report.cuda_available and report.torch_build == "cuda":
            v = torch.cuda.nccl.version()  # a tuple in torch 2.x, an int in old releases
            report.nccl = ".".join(map(str, v)) if isinstance(v, tuple) else str(v)
    except Exception as e:  # noqa: BLE001
        report.notes.append(f"torch.cuda could not be queried: {type(e).__name__}: {e}")
    try:
        report.mps_available = torch.backends.mps.is_available()
    except Exception:  # noqa: BLE001 - MPS exists only on macOS builds
        pass


def _probe_nvcc(report: EnvReport) -> None:
    nvcc = shutil.which("nvcc")
    if not nvcc:
        return
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as e:
        report.notes.append(f"nvcc at {nvcc} did not run: {e}")
        return
    m = re.search(r"release (\d+\.\d+)", out)
    report.nvcc_version = m.group(1) if m else None


def _probe_packages(report: EnvReport) -> None:
    for dist in ("pynvml", "nvidia-ml-py"):
        try:
            report.nvml_packages[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    report.env = {k: os.environ[k] for k in ENV_VARS if k in os.environ}
    report.torch_locations = torch_locations(sys.path)


def torch_locations(paths: list[str]) -> list[str]:
    """Every sys.path entry with a torch package or a torch dist-info: more than one means pip and another installer fought."""
    found = []
    for entry in paths:
        p = Path(entry or ".")
        try:
            has = (p / "torch" / "__init__.py").is_file() or any(p.glob("torch-*.dist-info")) or any(p.glob("torch-*.egg-info"))
        except OSError:
            continue
        if has and str(p.resolve()) not in found:
            found.append(str(p.resolve()))
    return found


def _probe_nvml(report: EnvReport, nvml: Nvml | None) -> None:
    try:
        nvml = nvml or default_nvml()
        nvml.init()
    except NvmlError as e:
        report.nvml_status, report.nvml_error = HINTS.get(type(e), str(e)), type(e).__name__
        _gpus_from_torch(report)
        return
    try:
        report.driver_version = _guard(report, "driver version", nvml.driver_version)
        cuda = _guard(report, "driver CUDA version", nvml.cuda_driver_version)
        if cuda:
            report.cuda_driver_version = f"{cuda // 1000}.{cuda % 1000 // 10}"  # 12040 → "12.4"
        for i in range(nvml.device_count()):
            report.gpus.append(read_gpu(nvml, i))
        report.nvml_status = "ok"
    except NvmlError as e:
        report.nvml_status, report.nvml_error = HINTS.get(type(e), f"NVML query failed: {e}"), type(e).__name__
    finally:
        try:
            nvml.shutdown()
        except NvmlError:
            pass


def _guard(report: EnvReport, what: str, fn: Any) -> Any:
    try:
        return fn()
    except NvmlError as e:
        report.notes.append(f"{what}: {NA} ({e})")
        return None


def _gpus_from_torch(report: EnvReport) -> None:
    """Without NVML, torch can still name the GPUs it can use."""
    if not report.cuda_available:
        return
    import torch

    report.gpus_from = "torch"
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        report.gpus.append(
            GPU(index=i, name=props.name, compute_capability=f"{props.major}.{props.minor}", memory_total_bytes=int(props.total_memory))
        )
