"""What the probe found, as plain data: the doctor, the install advice and the page read it; nothing here imports torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.env.cuda_tables import cc_int, cuda_from_driver, parse_version
from core.env.nvml import GPU
from core.i18n import Message, _, decode

ENV_VARS = ("CUDA_DEVICE_ORDER", "CUDA_VISIBLE_DEVICES")


def shown(text: str) -> str:
    """A report's text in the reader's language. The report is made once (in the probe's child) and cached for
    every session, so it holds no translated text: an encoded Message (a note, an NVML failure), an English id
    marked with N_ (an NVML hint), or data, shown as it is."""
    if not text:
        return text
    value = decode(text)
    return str(value) if isinstance(value, Message) else _(text)


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
    nvml_status: str = "not probed"  # "ok", or why NVML could not be read; show it with shown()
    nvml_error: str | None = None  # the NvmlError class that stopped NVML, e.g. "NvmlDriverMismatch"
    gpus: list[GPU] = field(default_factory=list)
    gpus_from: str = "nvml"  # "nvml" or "torch" (NVML unavailable)
    nvml_packages: dict[str, str] = field(default_factory=dict)  # installed "pynvml" / "nvidia-ml-py" → version
    env: dict[str, str] = field(default_factory=dict)  # CUDA_DEVICE_ORDER, CUDA_VISIBLE_DEVICES when set
    torch_locations: list[str] = field(default_factory=list)  # every sys.path entry holding a torch package
    notes: list[str] = field(default_factory=list)  # what could not be read, and why; show each with shown()

    def gpu_ccs(self) -> list[tuple[int, str, int]]:
        """(index, name, cc as 86) for each GPU whose compute capability is known."""
        return [(g.index, g.name, c) for g in self.gpus if (c := cc_int(g.compute_capability)) is not None]

    def driver_cuda(self) -> tuple[int, ...] | None:
        """The highest CUDA the driver supports: as NVML says, else from the driver's version."""
        return parse_version(self.cuda_driver_version) or cuda_from_driver(self.driver_version, self.os_name)

    @property
    def training_device(self) -> str:
        if self.cuda_available:
            return "cuda:0"
        return "mps" if self.mps_available else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "training_device": self.training_device}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvReport:
        known = {f.name for f in fields(cls)}
        gpu_fields = {f.name for f in fields(GPU)}
        d = {k: v for k, v in d.items() if k in known}
        return cls(**{**d, "gpus": [GPU(**{k: v for k, v in g.items() if k in gpu_fields}) for g in d.get("gpus", [])]})
