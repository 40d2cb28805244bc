"""The exact pip command for this machine: which wheel tag fits its driver, GPUs and OS, and why."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.env.cuda_tables import (
    INDEX_URL,
    LATEST_TORCH,
    TORCH_RELEASES,
    WHEEL_TAGS,
    driver_tier,
    last_release_for,
    min_driver,
    pinned_torch,
    runs_on,
    show,
    torch_minor,
)
from core.env.report import EnvReport
from core.i18n import N_, _


@dataclass(frozen=True)
class Advice:
    """Made in the current language each time advise() runs; `command` is code and never translated."""

    torch_version: str  # "2.13.0"
    label: str  # "pinned in requirements.txt" / "latest release"
    tag: str | None  # "cu130", "cpu", or None (plain PyPI: macOS)
    command: str
    why: str


NOTES = (  # English ids: show them with _(note)
    N_(
        "The torch wheels bundle the CUDA runtime, cuDNN and NCCL: only the NVIDIA driver must be new enough. "
        "The CUDA toolkit (nvcc) is optional, needed only to compile CUDA extensions."
    ),
    N_(
        "PyPI mirrors (a company or regional mirror of pypi.org) carry only PyPI's torch: a CUDA build on Linux, CPU-only on "
        "Windows. The cpu/cuXXX builds live only on download.pytorch.org, so use --index-url as shown (or mirror that index too)."
    ),
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
            _("macOS wheels come from PyPI and have no CUDA; on Apple silicon they use the GPU through MPS."),
        )
    spec = f'"torch=={version}"' if "*" in version else f"torch=={version}"  # quote a wildcard from the shell
    cpu_cmd = f"pip install {spec} --index-url {INDEX_URL}cpu"
    if not report.gpus:
        return Advice(
            version,
            label,
            "cpu",
            cpu_cmd,
            _("No NVIDIA GPU found: the CPU wheel is a fraction of the CUDA wheel's size and trains every lesson here."),
        )
    release = TORCH_RELEASES.get(torch_minor(version))
    if release is None:
        return Advice(
            version,
            label,
            None,
            f"pip install torch=={version}",
            _("torch {version} is not in this app's table; see pytorch.org.", version=version),
        )
    ccs = [cc for _, _, cc in report.gpu_ccs()]
    covering = [t for t in release.tags if all(runs_on(WHEEL_TAGS[t], cc, os_name) for cc in ccs)]
    if not covering:
        missing = sorted({cc for cc in ccs if not any(runs_on(WHEEL_TAGS[t], cc, os_name) for t in release.tags)})
        last = last_release_for(missing[0], os_name) if missing else None
        sm = ", ".join(f"sm_{c}" for c in missing)
        if last:
            older = advise(report, f"{last}.*", label)
            return replace(
                older,
                why=_(
                    "No torch {version} wheel has kernels for {sm}; torch {last} is the newest release that does. {why}",
                    version=version,
                    sm=sm,
                    last=last,
                    why=older.why,
                ),
            )
        return Advice(version, label, "cpu", cpu_cmd, _("No torch wheel in the table has kernels for {sm}; the CPU build works.", sm=sm))
    gpus_text = ", ".join(f"sm_{c}" for c in sorted(set(ccs))) or _("your GPU")
    dc = report.driver_cuda()

    def cmd(tag: str) -> str:
        return f"pip install {spec} --index-url {INDEX_URL}{tag}"

    if dc is None:
        tag = release.pypi_linux if release.pypi_linux in covering else covering[-1]
        return Advice(
            version,
            label,
            tag,
            cmd(tag),
            _("The driver's CUDA version is unknown; {tag} is torch {version}'s default build.", tag=tag, version=version),
        )
    strict = [t for t in covering if WHEEL_TAGS[t].cuda <= dc]
    if strict:
        tag = strict[-1]
        return Advice(
            version,
            label,
            tag,
            cmd(tag),
            _(
                "The newest CUDA build of torch {version} that your driver fully supports (it supports up to CUDA {cuda}) "
                "and that has kernels for {gpus}.",
                version=version,
                cuda=show(dc),
                gpus=gpus_text,
            ),
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
            _(
                "Your driver supports CUDA {cuda}, older than every build of torch {version}; {tag} runs on it through "
                "minor-version compatibility. Update the driver to {need} or newer for full support.",
                cuda=show(dc),
                version=version,
                tag=tag,
                need=need,
            ),
        )
    tag = covering[0]
    need = min_driver(WHEEL_TAGS[tag].cuda, os_name)
    return Advice(
        version,
        label,
        tag,
        cmd(tag),
        _(
            "Your driver ({driver}, CUDA {cuda}) is too old for every CUDA build of torch {version}: "
            "update the NVIDIA driver to {need} or newer first, then run this. Until then, the CPU build works: {command}",
            driver=report.driver_version or "?",
            cuda=show(dc),
            version=version,
            need=need,
            command=cpu_cmd,
        ),
    )


def already_installed(report: EnvReport, advice: Advice) -> bool:
    """Is exactly this wheel what this machine has: the same torch version and the same build (cpu, or the same CUDA)?
    Then the advice is to change nothing, not to install what is there."""
    installed = (report.torch_version or "").split("+")[0]
    if installed != advice.torch_version:
        return False
    if advice.tag is None:  # plain PyPI (macOS): one build
        return True
    if advice.tag == "cpu":
        return report.torch_build == "cpu"
    return report.torch_build == "cuda" and f"cu{(report.torch_cuda or '').replace('.', '')}" == advice.tag


def install_advice(report: EnvReport) -> list[Advice]:
    """Commands for the torch pinned in requirements.txt and for the latest release (one if they agree)."""
    pinned = pinned_torch()
    out = [advise(report, pinned, _("pinned in requirements.txt"))] if pinned else []
    if LATEST_TORCH != pinned:
        out.append(advise(report, LATEST_TORCH, _("latest release")))
    return out


def first_command(r: EnvReport) -> str:
    advice = install_advice(r)
    return advice[0].command if advice else "pip install torch"
