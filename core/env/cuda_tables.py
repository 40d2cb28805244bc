"""The one table of CUDA/driver/wheel facts the doctor reasons with, and the small functions that read it.

Sources (checked 2026; update the table, not the code, when a release lands):
- Driver minimums: NVIDIA, CUDA Toolkit Release Notes, table "CUDA Toolkit and Corresponding Driver Versions"
  (the strict tier: the driver bundled with that toolkit) and table "CUDA Toolkit and Minimum Required Driver
  Version for CUDA Minor Version Compatibility" (the minor-version tier: any 12.x runs on >= 525.60.13, with
  limits: no PTX JIT of newer code). https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/
- Wheel tags and their GPU architectures: pytorch/pytorch RELEASE.md, "Release Compatibility Matrix" and
  "PyTorch CUDA Support Matrix" (Linux x86_64 and Windows builds), and the per-release RFC issues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

Version = tuple[int, ...]


def parse_version(text: str | None) -> Version | None:
    """'580.65.06' → (580, 65, 6); '12.4' → (12, 4); None or junk → None."""
    if not text:
        return None
    nums = re.findall(r"\d+", text.split("+")[0])
    return tuple(int(n) for n in nums) or None


def show(v: Version) -> str:
    return ".".join(map(str, v))


@dataclass(frozen=True)
class CudaRelease:
    cuda: Version  # (12, 8)
    linux_min: str  # strict tier: the driver this toolkit shipped with (Linux x86_64)
    windows_min: str | None  # same for Windows x86_64; None where the notes list none


# Only the CUDA versions a torch wheel tag uses (GA rows of NVIDIA's table).
CUDA_RELEASES: tuple[CudaRelease, ...] = (
    CudaRelease((11, 8), "520.61.05", "520.06"),
    CudaRelease((12, 1), "530.30.02", "531.14"),
    CudaRelease((12, 4), "550.54.14", "551.61"),
    CudaRelease((12, 6), "560.28.03", "560.76"),
    CudaRelease((12, 8), "570.26", "570.65"),
    CudaRelease((12, 9), "575.51.03", "576.02"),
    # CUDA 13 no longer bundles a Windows display driver; NVIDIA's datacenter matrix says R580 for all of 13.x.
    # The 13.1 / 13.2 Linux numbers are the drivers those toolkits shipped with (590.44.01, 595.45.04).
    CudaRelease((13, 0), "580.65.06", None),
    CudaRelease((13, 1), "590.44.01", None),
    CudaRelease((13, 2), "595.45.04", None),
)

# Minor-version-compatibility tier: CUDA major → (Linux minimum, Windows minimum).
# 13.x Windows: NVIDIA states the R580 branch; the exact Windows build is not in the sources checked, so "580".
MINOR_COMPAT: dict[int, tuple[str, str]] = {11: ("450.80.02", "452.39"), 12: ("525.60.13", "528.33"), 13: ("580.65.06", "580")}


@dataclass(frozen=True)
class WheelTag:
    tag: str  # the index path: https://download.pytorch.org/whl/<tag>
    cuda: Version
    sm: frozenset[int]  # compute capabilities with native kernels (cubins), major*10 + minor
    ptx: int | None = None  # newest PTX shipped (JIT-compiled on newer GPUs; Linux builds only)


_LEGACY = frozenset({50, 60, 70, 75, 80, 86, 90})  # Maxwell … Hopper
_BLACKWELL = frozenset({75, 80, 86, 90, 100, 120})  # Turing … Blackwell: CUDA 13 cannot build sm_50–72
WHEEL_TAGS: dict[str, WheelTag] = {
    t.tag: t
    for t in (
        WheelTag("cu118", (11, 8), _LEGACY),
        WheelTag("cu121", (12, 1), _LEGACY),
        WheelTag("cu124", (12, 4), _LEGACY),
        WheelTag("cu126", (12, 6), _LEGACY),
        # cu128 had sm_70 (Volta) in torch 2.8–2.10 and dropped it in 2.11; we list the newer, stricter set.
        WheelTag("cu128", (12, 8), _BLACKWELL),
        WheelTag("cu129", (12, 9), _BLACKWELL),
        WheelTag("cu130", (13, 0), _BLACKWELL, ptx=120),
        WheelTag("cu132", (13, 2), _BLACKWELL, ptx=120),
    )
}


@dataclass(frozen=True)
class TorchRelease:
    tags: tuple[str, ...]  # CUDA wheel tags on download.pytorch.org, oldest first (every release also has "cpu")
    pypi_linux: str  # the tag a plain `pip install torch` gets on Linux x86_64 (Windows PyPI wheels are CPU-only)


TORCH_RELEASES: dict[str, TorchRelease] = {
    "2.7": TorchRelease(("cu118", "cu126", "cu128"), "cu126"),
    "2.8": TorchRelease(("cu126", "cu128", "cu129"), "cu128"),
    "2.9": TorchRelease(("cu126", "cu128", "cu130"), "cu128"),
    "2.10": TorchRelease(("cu126", "cu128", "cu130"), "cu128"),
    "2.11": TorchRelease(("cu126", "cu128", "cu130"), "cu130"),
    "2.12": TorchRelease(("cu126", "cu130", "cu132"), "cu130"),
    "2.13": TorchRelease(("cu126", "cu130", "cu132"), "cu130"),
    "2.14": TorchRelease(("cu126", "cu130", "cu132"), "cu132"),
    "2.15": TorchRelease(("cu130", "cu132"), "cu132"),  # cu126 gone: no wheel for sm_50–72 from here on
}
LATEST_TORCH = "2.15.0"  # newest release when the table was last updated
INDEX_URL = "https://download.pytorch.org/whl/"
ROOT = Path(__file__).resolve().parents[2]


def pinned_torch(requirements: Path = ROOT / "requirements.txt") -> str | None:
    """The torch version requirements.txt pins (torch==X), or None."""
    try:
        m = re.search(r"^\s*torch\s*==\s*([\w.]+)", requirements.read_text(), re.MULTILINE)
    except OSError:
        return None
    return m.group(1) if m else None


def torch_minor(version: str) -> str:
    """'2.13.0+cu130' → '2.13'."""
    return ".".join(version.split("+")[0].split(".")[:2])


def driver_tier(cuda: Version, driver: str | None, os_name: str) -> str | None:
    """How a driver runs code built for CUDA `cuda`: "strict" (fully), "minor" (minor-version compatibility) or None (not)."""
    d = parse_version(driver)
    if d is None:
        return None
    windows = os_name == "Windows"
    rel = next((r for r in CUDA_RELEASES if r.cuda == cuda[:2]), None)
    strict = rel and (rel.windows_min if windows else rel.linux_min)
    if strict and d >= parse_version(strict):
        return "strict"
    minor = MINOR_COMPAT.get(cuda[0])
    if minor and d >= parse_version(minor[1] if windows else minor[0]):
        return "minor"
    return None


def min_driver(cuda: Version, os_name: str) -> str:
    """The driver to install for CUDA `cuda` on this OS: the strict minimum, or the minor-compatibility one where none is listed."""
    rel = next((r for r in CUDA_RELEASES if r.cuda == cuda[:2]), None)
    strict = rel and (rel.windows_min if os_name == "Windows" else rel.linux_min)
    if strict:
        return strict
    minor = MINOR_COMPAT.get(cuda[0], ("?", "?"))
    return minor[1] if os_name == "Windows" else minor[0]


def cuda_from_driver(driver: str | None, os_name: str) -> Version | None:
    """The highest CUDA in the table this driver fully supports; a fallback when NVML gives no CUDA version."""
    ok = [r.cuda for r in CUDA_RELEASES if driver_tier(r.cuda, driver, os_name) == "strict"]
    return max(ok) if ok else None


def runs_on(tag: WheelTag, cc: int, os_name: str) -> bool:
    """Does this wheel have kernels for compute capability `cc`? A cubin runs on later minors of its major; PTX JITs upward."""
    if any(s // 10 == cc // 10 and s <= cc for s in tag.sm):
        return True
    return tag.ptx is not None and os_name == "Linux" and tag.ptx <= cc


def arch_list_covers(arch_list: list[str], cc: int) -> bool:
    """Same rule over torch.cuda.get_arch_list() (e.g. ['sm_80', 'sm_90', 'compute_90']); 'sm_90a' is not portable."""
    for arch in arch_list:
        m = re.fullmatch(r"(sm|compute)_(\d+)", arch)
        if not m:
            continue
        n = int(m.group(2))
        if m.group(1) == "sm" and n // 10 == cc // 10 and n <= cc:
            return True
        if m.group(1) == "compute" and n <= cc:
            return True
    return False


def cc_int(cc: str | None) -> int | None:
    """'8.6' → 86."""
    v = parse_version(cc)
    return v[0] * 10 + (v[1] if len(v) > 1 else 0) if v else None


def tags_for_cc(cc: int, os_name: str) -> list[str]:
    """Every wheel tag with kernels for this GPU, oldest first."""
    return [t for t, w in WHEEL_TAGS.items() if runs_on(w, cc, os_name)]


def last_release_for(cc: int, os_name: str) -> str | None:
    """The newest torch release in the table with any wheel for this GPU."""
    ok = [v for v, r in TORCH_RELEASES.items() if any(runs_on(WHEEL_TAGS[t], cc, os_name) for t in r.tags)]
    return max(ok, key=lambda v: parse_version(v)) if ok else None
