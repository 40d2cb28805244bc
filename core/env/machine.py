"""Probe torch, CUDA and the GPUs (through NVML) into a report. probe() never raises: a missing piece is a fact.

Torch is imported only inside functions: the Streamlit server imports this module for the dataclasses and must
never pay for torch (see DESIGN.md); the page runs probe() in a child process (`python -m core env --json`).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from core.env.nvml import GPU, HINTS, NA, Nvml, NvmlError, default_nvml, read_gpu
from core.env.report import ENV_VARS, EnvReport
from core.i18n import Message, encode

__all__ = ["GPU", "NA", "EnvReport", "probe"]


def probe(nvml: Nvml | None = None) -> EnvReport:
    """Everything the doctor needs. `nvml` is the injection point for tests; by default the real (or demo) NVML."""
    report = EnvReport(
        python=sys.version.split()[0], os=f"{platform.system()} {platform.release()} ({platform.machine()})", os_name=platform.system()
    )
    for step in (_probe_torch, _probe_nvcc, _probe_packages):
        try:
            step(report)
        except Exception as e:  # noqa: BLE001 - probe() never raises; an odd failure is a note
            report.notes.append(encode(Message("{step} could not be probed: {error}", {"step": step.__name__[7:], "error": _error(e)})))
    try:
        _probe_nvml(report, nvml)
    except Exception as e:  # noqa: BLE001
        report.nvml_status = encode(Message("NVML query failed: {error}", {"error": _error(e)}))
    return report


def _probe_torch(report: EnvReport) -> None:
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - a broken install is exactly what we report
        report.notes.append(encode(Message("torch cannot be imported: {error}", {"error": _error(e)})))
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
        report.notes.append(encode(Message("torch.cuda could not be queried: {error}", {"error": _error(e)})))
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
        report.notes.append(encode(Message("nvcc at {path} did not run: {error}", {"path": nvcc, "error": str(e)})))
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
        report.driver_version = _guard(report, Message("driver version"), nvml.driver_version)
        cuda = _guard(report, Message("driver CUDA version"), nvml.cuda_driver_version)
        if cuda:
            report.cuda_driver_version = f"{cuda // 1000}.{cuda % 1000 // 10}"  # 12040 → "12.4"
        for i in range(nvml.device_count()):
            report.gpus.append(read_gpu(nvml, i))
        report.nvml_status = "ok"
    except NvmlError as e:
        status = HINTS.get(type(e)) or encode(Message("NVML query failed: {error}", {"error": str(e)}))
        report.nvml_status, report.nvml_error = status, type(e).__name__
    finally:
        try:
            nvml.shutdown()
        except NvmlError:
            pass


def _guard(report: EnvReport, what: Message, fn: Any) -> Any:
    try:
        return fn()
    except NvmlError as e:
        report.notes.append(encode(Message("{what}: {na} ({error})", {"what": what, "na": NA, "error": str(e)})))
        return None


def _error(e: Exception) -> str:
    return f"{type(e).__name__}: {e}"


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
