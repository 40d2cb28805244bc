"""Probe torch, CUDA and the GPUs (through NVML) into a report. probe() never raises: a missing piece is a fact."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

NA = "N/A"


@dataclass
class GPU:
    index: int
    name: str
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None


@dataclass
class EnvReport:
    python: str
    os: str
    torch_version: str | None = None
    torch_cuda: str | None = None  # the CUDA runtime the torch wheel bundles, torch.version.cuda
    cuda_available: bool = False
    cudnn: int | None = None
    mps_available: bool = False
    driver_version: str | None = None
    gpus: list[GPU] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def training_device(self) -> str:
        if self.cuda_available:
            return "cuda:0"
        return "mps" if self.mps_available else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "training_device": self.training_device}

    def to_markdown(self) -> str:
        lines = [
            "# Descent Lab environment report",
            f"- Python {self.python} on {self.os}",
            f"- torch {self.torch_version or 'not installed'}; torch.version.cuda {self.torch_cuda or 'none (CPU build)'}",
            f"- CUDA usable: {'yes' if self.cuda_available else 'no'}; training device: {self.training_device}",
        ]
        if self.driver_version:
            lines.append(f"- NVIDIA driver {self.driver_version}")
        for g in self.gpus:
            total = "N/A" if g.memory_total_bytes is None else f"{g.memory_total_bytes / 2**30:.1f} GiB"
            lines.append(f"- GPU {g.index}: {g.name}, {total}")
        lines += [f"- note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvReport:
        d = {k: v for k, v in d.items() if k != "training_device"}
        return cls(**{**d, "gpus": [GPU(**g) for g in d.get("gpus", [])]})


def probe() -> EnvReport:
    report = EnvReport(python=sys.version.split()[0], os=f"{platform.system()} {platform.release()} ({platform.machine()})")
    _probe_torch(report)
    _probe_nvml(report)
    return report


def _probe_torch(report: EnvReport) -> None:
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - a broken install is exactly what we report
        report.notes.append(f"torch cannot be imported: {type(e).__name__}: {e}")
        return
    report.torch_version = torch.__version__
    report.torch_cuda = torch.version.cuda
    try:
        report.cuda_available = torch.cuda.is_available()
        report.cudnn = torch.backends.cudnn.version() if report.cuda_available else None
    except Exception as e:  # noqa: BLE001
        report.notes.append(f"torch.cuda could not be queried: {e}")
    try:
        report.mps_available = torch.backends.mps.is_available()
    except Exception:  # noqa: BLE001
        pass


def _probe_nvml(report: EnvReport) -> None:
    try:
        import pynvml
    except ImportError:
        report.notes.append("nvidia-ml-py is not installed, so GPUs are listed through torch only.")
        _gpus_from_torch(report)
        return
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        if isinstance(e, pynvml.NVMLError_LibraryNotFound):
            report.notes.append("No NVIDIA driver found (the NVML library is absent): this machine has no usable NVIDIA GPU.")
        else:
            report.notes.append(f"NVML could not start: {e}")
        _gpus_from_torch(report)
        return
    try:
        report.driver_version = _text(pynvml.nvmlSystemGetDriverVersion())
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            gpu = GPU(index=i, name=_text(pynvml.nvmlDeviceGetName(h)))
            try:
                mem = pynvml.nvmlDeviceGetMemoryInfo(h)
                gpu.memory_total_bytes, gpu.memory_used_bytes = int(mem.total), int(mem.used)
            except pynvml.NVMLError as e:
                report.notes.append(f"GPU {i}: memory {NA} ({e})")
            report.gpus.append(gpu)
    except pynvml.NVMLError as e:
        report.notes.append(f"NVML query failed: {e}")
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def _gpus_from_torch(report: EnvReport) -> None:
    if not report.cuda_available:
        return
    import torch

    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        report.gpus.append(GPU(index=i, name=props.name, memory_total_bytes=int(props.total_memory)))


def _text(v: str | bytes) -> str:
    return v.decode() if isinstance(v, bytes) else v
