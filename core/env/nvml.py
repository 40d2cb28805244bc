"""NVML behind one small adapter, so the probe, the live GPU cards and the tests see the same surface.

The real adapter wraps `pynvml` (package `nvidia-ml-py`, pure ctypes: no torch, cheap to load in the server).
Every call raises only our own NvmlError subclasses; `read_gpu` guards each field separately, so a field a GPU
does not support becomes "N/A" with its reason and never hides the others (the nvitop habit).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.i18n import N_, _

NA = "N/A"
FAKE_GPU_ENV = "DESCENT_FAKE_GPU"  # "1": pretend one H100 is present (tests, screenshots, demos). Torch stays real.


class NvmlError(Exception):
    """Any NVML failure; the message is one a person can act on."""


class NvmlNotSupported(NvmlError):
    """This GPU or driver does not report the field (e.g. fan speed on a passively cooled datacenter card)."""


class NvmlUnavailable(NvmlError):
    """NVML cannot start: no driver, no nvidia-ml-py, or a driver/library mismatch. Fatal for the whole query."""


class NvmlLibraryNotFound(NvmlUnavailable):
    pass


class NvmlDriverMismatch(NvmlUnavailable):
    pass


class NvmlFunctionNotFound(NvmlError):
    pass


# What a person should do about each fatal NVML error; shown as the report's NVML status.
# English ids (the report is data, made once per server and cached): shown through _() by whoever reads them.
HINTS = {
    NvmlLibraryNotFound: N_(
        "No NVIDIA driver found (the NVML library libnvidia-ml is absent): this machine has no usable "
        "NVIDIA GPU, or its driver is not installed."
    ),
    NvmlDriverMismatch: N_(
        "The NVIDIA kernel module and the driver library have different versions (NVML: "
        "LibRmVersionMismatch), which happens after a driver update. Reboot (or reload the nvidia kernel modules)."
    ),
    NvmlFunctionNotFound: N_(
        "The driver's NVML lacks a function that nvidia-ml-py called: the driver is older than the "
        "nvidia-ml-py package. Update the driver, or install an older nvidia-ml-py."
    ),
}

# pynvml's NVML_ERROR_* codes → our types (codes are stable C enum values).
_CODES: dict[int, type[NvmlError]] = {
    3: NvmlNotSupported,
    9: NvmlLibraryNotFound,
    12: NvmlLibraryNotFound,
    13: NvmlFunctionNotFound,
    18: NvmlDriverMismatch,
}


class Nvml(Protocol):
    """The NVML surface the app uses. Handles are opaque; every method raises only NvmlError subclasses."""

    def init(self) -> None: ...
    def shutdown(self) -> None: ...
    def driver_version(self) -> str: ...
    def cuda_driver_version(self) -> int: ...  # e.g. 12040 for CUDA 12.4: the highest CUDA this driver supports
    def device_count(self) -> int: ...
    def handle(self, index: int) -> Any: ...
    def name(self, h: Any) -> str: ...
    def uuid(self, h: Any) -> str: ...
    def compute_capability(self, h: Any) -> tuple[int, int]: ...
    def memory(self, h: Any) -> tuple[int, int]: ...  # (total_bytes, used_bytes)
    def utilization(self, h: Any) -> tuple[int, int]: ...  # (gpu_pct, memory_pct)
    def temperature_c(self, h: Any) -> int: ...
    def power_draw_w(self, h: Any) -> float: ...
    def power_limit_w(self, h: Any) -> float: ...
    def clocks_mhz(self, h: Any) -> tuple[int, int]: ...  # (sm, memory)
    def fan_pct(self, h: Any) -> int: ...
    def pcie(self, h: Any) -> tuple[int, int]: ...  # (generation, lanes), current link
    def persistence(self, h: Any) -> bool: ...
    def mig(self, h: Any) -> bool: ...
    def ecc_uncorrected(self, h: Any) -> int: ...  # volatile (since boot) uncorrected errors
    def processes(self, h: Any) -> list[tuple[int, int | None]]: ...  # (pid, used_bytes)


def _text(v: str | bytes) -> str:
    return v.decode() if isinstance(v, bytes) else v


class PynvmlAdapter:
    """The real NVML through nvidia-ml-py. Each method is the twin of one nvidia-smi column."""

    def __init__(self, module: Any) -> None:
        self._m = module

    @classmethod
    def load(cls) -> PynvmlAdapter:
        try:
            import pynvml
        except ImportError as e:
            raise NvmlUnavailable(
                N_("nvidia-ml-py is not installed (pip install nvidia-ml-py), so GPUs are listed through torch only.")
            ) from e
        return cls(pynvml)

    def _call(self, fn: str, *args: Any) -> Any:
        try:
            f = getattr(self._m, fn)
        except AttributeError as e:
            raise NvmlFunctionNotFound(f"{fn} is missing from this pynvml") from e
        try:
            return f(*args)
        except self._m.NVMLError as e:
            kind = _CODES.get(getattr(e, "value", None), NvmlError)
            raise kind(str(e)) from e

    def init(self) -> None:
        self._call("nvmlInit")

    def shutdown(self) -> None:
        self._call("nvmlShutdown")

    def driver_version(self) -> str:
        return _text(self._call("nvmlSystemGetDriverVersion"))

    def cuda_driver_version(self) -> int:
        return int(self._call("nvmlSystemGetCudaDriverVersion"))

    def device_count(self) -> int:
        return int(self._call("nvmlDeviceGetCount"))

    def handle(self, index: int) -> Any:
        return self._call("nvmlDeviceGetHandleByIndex", index)

    def name(self, h: Any) -> str:
        return _text(self._call("nvmlDeviceGetName", h))

    def uuid(self, h: Any) -> str:
        return _text(self._call("nvmlDeviceGetUUID", h))

    def compute_capability(self, h: Any) -> tuple[int, int]:
        major, minor = self._call("nvmlDeviceGetCudaComputeCapability", h)
        return int(major), int(minor)

    def memory(self, h: Any) -> tuple[int, int]:
        """Memory v2 (its `used` excludes driver-reserved memory, like nvidia-smi); v1 on drivers without it."""
        try:
            mem = self._call("nvmlDeviceGetMemoryInfo", h, self._m.nvmlMemory_v2)
        except (NvmlFunctionNotFound, NvmlNotSupported, AttributeError):
            mem = self._call("nvmlDeviceGetMemoryInfo", h)
        except NvmlError as e:  # ARGUMENT_VERSION_MISMATCH on older drivers
            if "version" not in str(e).lower():
                raise
            mem = self._call("nvmlDeviceGetMemoryInfo", h)
        return int(mem.total), int(mem.used)

    def utilization(self, h: Any) -> tuple[int, int]:
        u = self._call("nvmlDeviceGetUtilizationRates", h)
        return int(u.gpu), int(u.memory)

    def temperature_c(self, h: Any) -> int:
        return int(self._call("nvmlDeviceGetTemperature", h, 0))  # NVML_TEMPERATURE_GPU

    def power_draw_w(self, h: Any) -> float:
        return self._call("nvmlDeviceGetPowerUsage", h) / 1000  # mW

    def power_limit_w(self, h: Any) -> float:
        return self._call("nvmlDeviceGetEnforcedPowerLimit", h) / 1000  # mW

    def clocks_mhz(self, h: Any) -> tuple[int, int]:
        return int(self._call("nvmlDeviceGetClockInfo", h, 1)), int(self._call("nvmlDeviceGetClockInfo", h, 2))  # SM, MEM

    def fan_pct(self, h: Any) -> int:
        return int(self._call("nvmlDeviceGetFanSpeed", h))

    def pcie(self, h: Any) -> tuple[int, int]:
        return int(self._call("nvmlDeviceGetCurrPcieLinkGeneration", h)), int(self._call("nvmlDeviceGetCurrPcieLinkWidth", h))

    def persistence(self, h: Any) -> bool:
        return bool(self._call("nvmlDeviceGetPersistenceMode", h))

    def mig(self, h: Any) -> bool:
        current, _pending = self._call("nvmlDeviceGetMigMode", h)
        return bool(current)

    def ecc_uncorrected(self, h: Any) -> int:
        return int(self._call("nvmlDeviceGetTotalEccErrors", h, 1, 0))  # UNCORRECTED, VOLATILE

    def processes(self, h: Any) -> list[tuple[int, int | None]]:
        out = []
        for p in self._call("nvmlDeviceGetComputeRunningProcesses", h):
            used = getattr(p, "usedGpuMemory", None)
            out.append((int(p.pid), int(used) if isinstance(used, int) and used < 2**63 else None))  # NVML_VALUE_NOT_AVAILABLE
        return out


class FakeNvml:
    """An NVML double: each GPU is a dict of method name → value, exception or callable; a missing key is NotSupported."""

    def __init__(self, gpus: list[dict[str, Any]], driver: str = "580.65.06", cuda: int = 13000, init_error: NvmlError | None = None):
        self.gpus, self.driver, self.cuda, self.init_error = gpus, driver, cuda, init_error

    def init(self) -> None:
        if self.init_error:
            raise self.init_error

    def shutdown(self) -> None:
        pass

    def driver_version(self) -> str:
        return self.driver

    def cuda_driver_version(self) -> int:
        return self.cuda

    def device_count(self) -> int:
        return len(self.gpus)

    def handle(self, index: int) -> int:
        return index

    def __getattr__(self, method: str) -> Callable[[int], Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def field(h: int) -> Any:
            v = self.gpus[h].get(method, NvmlNotSupported("Not Supported"))
            if isinstance(v, BaseException):
                raise v
            return v() if callable(v) else v

        return field


def demo_nvml() -> FakeNvml:
    """One busy H100 whose load drifts with time, so the live charts move. Used when DESCENT_FAKE_GPU=1."""

    def wave(lo: float, hi: float, period_s: float = 40.0) -> Callable[[], float]:
        return lambda: lo + (hi - lo) * (0.5 + 0.5 * math.sin(2 * math.pi * time.time() / period_s))

    gib = 2**30
    util = wave(35, 98)
    return FakeNvml(
        [
            {
                "name": "NVIDIA H100 80GB HBM3 (fake)",
                "uuid": "GPU-00000000-fake-0000-0000-000000000000",
                "compute_capability": (9, 0),
                "memory": lambda: (80 * gib, int(wave(12, 61)() * gib)),
                "utilization": lambda: (int(util()), int(util() * 0.6)),
                "temperature_c": lambda: int(wave(41, 74)()),
                "power_draw_w": lambda: round(wave(110, 640)(), 1),
                "power_limit_w": 700.0,
                "clocks_mhz": (1980, 2619),
                "pcie": (5, 16),
                "persistence": True,
                "mig": False,
                "ecc_uncorrected": 0,
                "processes": [(4242, 11 * gib)],
                # no "fan_pct": passively cooled, so NVML says NotSupported, as on a real H100
            }
        ]
    )


def fake_gpu_enabled() -> bool:
    """DESCENT_FAKE_GPU=1: the app's documented seam for tests, screenshots and demos without a GPU."""
    return os.environ.get(FAKE_GPU_ENV, "") not in ("", "0")


def default_nvml() -> Nvml:
    """The NVML this process should use: the demo fake under DESCENT_FAKE_GPU=1, else the real one (may raise NvmlUnavailable)."""
    if fake_gpu_enabled():
        return demo_nvml()
    return PynvmlAdapter.load()


@dataclass
class GPU:
    """One GPU as NVML sees it. None means not read; `na` says why (field name → reason)."""

    index: int
    name: str
    uuid: str | None = None
    compute_capability: str | None = None  # "8.6"
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None
    utilization_pct: int | None = None
    memory_utilization_pct: int | None = None  # share of time the memory controller was busy
    temperature_c: int | None = None
    power_draw_w: float | None = None
    power_limit_w: float | None = None
    sm_clock_mhz: int | None = None
    memory_clock_mhz: int | None = None
    fan_pct: int | None = None
    pcie_generation: int | None = None
    pcie_width: int | None = None
    persistence_mode: bool | None = None
    mig_mode: bool | None = None
    ecc_uncorrected: int | None = None
    processes: list[list[int | None]] | None = None  # [pid, used_bytes]
    na: dict[str, str] = field(default_factory=dict)

    def show(self, name: str, fmt: Callable[[Any], str] = str) -> str:
        """The field as text, or "N/A (reason)", the reason in the reader's language (it is kept in English)."""
        v = getattr(self, name)
        if v is None:
            return f"{NA} ({_(self.na[name])})" if name in self.na else NA
        return fmt(v)


def _reason(e: NvmlError) -> str:
    if isinstance(e, NvmlNotSupported):
        return N_("not supported on this GPU")
    if isinstance(e, NvmlFunctionNotFound):
        return N_("this driver lacks the NVML function")
    return str(e) or type(e).__name__


# GPU fields ← adapter method; a tuple of names means the method returns a tuple.
_FIELDS: dict[str, str | tuple[str, ...]] = {
    "uuid": "uuid",
    "compute_capability": "compute_capability",
    "memory": ("memory_total_bytes", "memory_used_bytes"),
    "utilization": ("utilization_pct", "memory_utilization_pct"),
    "temperature_c": "temperature_c",
    "power_draw_w": "power_draw_w",
    "power_limit_w": "power_limit_w",
    "clocks_mhz": ("sm_clock_mhz", "memory_clock_mhz"),
    "fan_pct": "fan_pct",
    "pcie": ("pcie_generation", "pcie_width"),
    "persistence": "persistence_mode",
    "mig": "mig_mode",
    "ecc_uncorrected": "ecc_uncorrected",
    "processes": "processes",
}
LIVE_FIELDS = ("memory", "utilization", "temperature_c", "power_draw_w", "power_limit_w")


def read_gpu(nvml: Nvml, index: int, methods: tuple[str, ...] | None = None) -> GPU:
    """Read one GPU, each field guarded on its own: a failing field is None plus a reason in `na`."""
    h = nvml.handle(index)
    try:
        gpu = GPU(index=index, name=nvml.name(h))
    except NvmlError as e:
        gpu = GPU(index=index, name=NA, na={"name": _reason(e)})
    for method in methods or tuple(_FIELDS):
        target = _FIELDS[method]
        names = target if isinstance(target, tuple) else (target,)
        try:
            value = getattr(nvml, method)(h)
        except NvmlError as e:
            for n in names:
                gpu.na[n] = _reason(e)
            continue
        values = value if isinstance(target, tuple) else (value,)
        for n, v in zip(names, values, strict=True):
            setattr(gpu, n, v)
    if isinstance(gpu.compute_capability, tuple):
        gpu.compute_capability = "{}.{}".format(*gpu.compute_capability)
    if gpu.processes is not None:
        gpu.processes = [list(p) for p in gpu.processes]
    return gpu


class LiveSampler:
    """Samples NVML for the live cards at most once per `min_interval_s`, however many sessions watch.

    It runs in the Streamlit server through NVML only (ctypes, no torch): one sample of a GPU is ~5 NVML calls,
    well under a millisecond each, so a child process would cost more than it saves. History is kept here,
    shared by every session, so a page opened later still sees the last minutes.
    """

    def __init__(self, nvml_factory: Callable[[], Nvml] = default_nvml, min_interval_s: float = 1.0, window: int = 300):
        self._factory, self._min_interval_s, self._window = nvml_factory, min_interval_s, window
        self._lock = threading.Lock()
        self._nvml: Nvml | None = None
        self.error: str | None = None
        self._last = 0.0
        self._gpus: list[GPU] = []
        self._history: dict[int, dict[str, deque]] = {}

    def _start(self) -> Nvml | None:
        if self._nvml is None and self.error is None:
            try:
                nvml = self._factory()
                nvml.init()
                self._nvml = nvml
            except NvmlError as e:
                self.error = HINTS.get(type(e), str(e))
        return self._nvml

    def sample(self) -> tuple[list[GPU], dict[int, dict[str, list]]]:
        """The newest reading of each GPU and each GPU's history (t, utilization, memory, temperature, power)."""
        with self._lock:
            now = time.time()
            nvml = self._start()
            if nvml is not None and now - self._last >= self._min_interval_s:
                self._last = now
                try:
                    self._gpus = [read_gpu(nvml, i, LIVE_FIELDS) for i in range(nvml.device_count())]
                except NvmlError as e:
                    self.error, self._nvml = HINTS.get(type(e), str(e)), None
                for g in self._gpus:
                    h = self._history.setdefault(g.index, {k: deque(maxlen=self._window) for k in ("t", "util", "mem", "temp", "power")})
                    mem_pct = None if not g.memory_total_bytes else 100 * (g.memory_used_bytes or 0) / g.memory_total_bytes
                    for k, v in (
                        ("t", now),
                        ("util", g.utilization_pct),
                        ("mem", mem_pct),
                        ("temp", g.temperature_c),
                        ("power", g.power_draw_w),
                    ):
                        h[k].append(v)
            return list(self._gpus), {i: {k: list(v) for k, v in h.items()} for i, h in self._history.items()}
