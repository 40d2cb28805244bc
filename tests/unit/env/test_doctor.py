"""Every verdict and every install-advice row, over a grid of (driver, compute capability, OS) cases."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from core.env import EnvReport, cuda_tables, doctor, install
from core.env.bug_report import report_markdown
from core.env.cuda_tables import WHEEL_TAGS, arch_list_covers, driver_tier, last_release_for, runs_on
from core.env.nvml import GPU

CU130_ARCH = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"]
CU126_ARCH = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]


def report(cc="8.6", driver="580.65.06", cuda_driver="13.0", os_name="Linux", n_gpus=1, **kw) -> EnvReport:
    """A healthy Linux box with a CUDA 13.0 torch unless told otherwise."""
    base = dict(
        python="3.11.7",
        os=os_name,
        os_name=os_name,
        torch_version="2.13.0+cu130",
        torch_build="cuda",
        torch_cuda="13.0",
        cuda_available=True,
        arch_list=CU130_ARCH,
        driver_version=driver,
        cuda_driver_version=cuda_driver,
        nvml_status="ok",
        gpus=[GPU(index=i, name=f"GPU{i}", compute_capability=cc) for i in range(n_gpus)],
        nvml_packages={"nvidia-ml-py": "13.615.71"},
        torch_locations=["/venv/site-packages"],
    )
    return EnvReport(**{**base, **kw})


def codes(r: EnvReport) -> list[str]:
    return [v.code for v in doctor.verdicts(r)]


# ------------------------------------------------------------------------------------------------------ verdicts

CASES = {
    "ready": report(),
    "torch_missing": report(torch_version=None, torch_build=None, torch_cuda=None, cuda_available=False, arch_list=[]),
    "driver_mismatch": report(gpus=[], driver=None, cuda_driver=None, nvml_error="NvmlDriverMismatch", nvml_status="... Reboot"),
    "nvml_function_missing": report(nvml_error="NvmlFunctionNotFound", nvml_status="Update the driver"),
    "nvml_missing": report(gpus=[], nvml_error="NvmlUnavailable", nvml_status="nvidia-ml-py is not installed (…)"),
    "nvml_failed": report(nvml_error="NvmlError", nvml_status="NVML query failed: GPU is lost"),
    "mps": report(gpus=[], os_name="Darwin", torch_build="cpu", torch_cuda=None, cuda_available=False, mps_available=True),
    "no_gpu": report(gpus=[], driver=None, cuda_driver=None, torch_build="cpu", torch_cuda=None, cuda_available=False, arch_list=[]),
    "cpu_torch_with_gpu": report(torch_version="2.13.0+cpu", torch_build="cpu", torch_cuda=None, cuda_available=False, arch_list=[]),
    "driver_minor_compat": report(driver="580.95.05", cuda_driver="13.0", torch_version="2.13.0+cu132", torch_cuda="13.2"),
    "driver_too_old": report(driver="535.104.05", cuda_driver="12.2", cuda_available=False),
    "arch_missing": report(cc="12.0", torch_cuda="12.6", arch_list=CU126_ARCH, driver="570.124.06", cuda_driver="12.8"),
    "cuda_unusable": report(cuda_available=False),
    "nvcc_mismatch": report(nvcc_version="12.4"),
    "pynvml_deprecated": report(nvml_packages={"pynvml": "11.5.0", "nvidia-ml-py": "13.615.71"}),
    "no_visible_devices": report(env={"CUDA_VISIBLE_DEVICES": ""}, cuda_available=False),
    "visible_devices": report(env={"CUDA_VISIBLE_DEVICES": "2,3"}),
    "device_order": report(n_gpus=2),
    "multiple_torch": report(torch_locations=["/venv/site-packages", "/home/me/.local/lib/python3.11/site-packages"]),
    "rocm": report(gpus=[], torch_build="rocm", torch_cuda=None, torch_hip="6.4", arch_list=["gfx90a"], driver=None, cuda_driver=None),
}
SEVERITY = {
    "ready": "ok",
    "mps": "ok",
    "torch_missing": "error",
    "driver_mismatch": "error",
    "cpu_torch_with_gpu": "error",
    "driver_too_old": "error",
    "arch_missing": "error",
    "cuda_unusable": "error",
    "multiple_torch": "error",
    "driver_minor_compat": "warning",
    "nvml_function_missing": "warning",
    "nvml_failed": "warning",
    "pynvml_deprecated": "warning",
    "no_visible_devices": "warning",
    "device_order": "warning",
    "nvml_missing": "info",
    "no_gpu": "info",
    "nvcc_mismatch": "info",
    "visible_devices": "info",
    "rocm": "info",
}


def test_every_verdict_the_doctor_can_give_has_a_case():
    emitted = set(re.findall(r'Verdict\(\s*"(\w+)"', Path(doctor.__file__).read_text()))
    assert emitted == set(CASES) == set(SEVERITY)


@pytest.mark.parametrize("code", list(CASES))
def test_each_verdict_fires_with_its_severity(code):
    found = {v.code: v for v in doctor.verdicts(CASES[code])}
    assert code in found, found
    assert found[code].severity == SEVERITY[code]
    if SEVERITY[code] in ("error", "warning") and code not in ("nvml_function_missing", "nvml_failed"):
        assert found[code].fix  # every problem a person can fix comes with the fix


def test_a_healthy_machine_gets_only_ready():
    assert codes(report()) == ["ready"]


def test_verdicts_are_sorted_worst_first():
    r = report(cuda_available=False, driver="535.104.05", cuda_driver="12.2", nvcc_version="12.4", n_gpus=2)
    sev = [v.severity for v in doctor.verdicts(r)]
    assert sev == sorted(sev, key=doctor.SEVERITY_ORDER.get) and sev[0] == "error"


def test_the_cpu_build_verdict_names_the_plus_cpu_tag_and_gives_a_cuda_command():
    v = doctor.verdicts(CASES["cpu_torch_with_gpu"])[0]
    assert "+cpu build" in v.title and v.fix == "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu130"


def test_arch_missing_for_pascal_on_a_cuda13_build_says_cu126():
    r = report(cc="6.1", driver="580.65.06")
    v = next(v for v in doctor.verdicts(r) if v.code == "arch_missing")
    assert "sm_61" in v.title and "cu126" in v.detail and "dropped sm_50–72" in v.detail


def test_arch_missing_for_blackwell_on_cu126_names_cu128_or_newer():
    v = next(v for v in doctor.verdicts(CASES["arch_missing"]) if v.code == "arch_missing")
    assert "cu128, cu129, cu130, cu132" in v.detail


def test_nvcc_mismatch_says_it_matters_only_for_extensions():
    v = next(v for v in doctor.verdicts(CASES["nvcc_mismatch"]) if v.code == "nvcc_mismatch")
    assert "only when you build CUDA extensions" in v.detail


def test_same_nvcc_major_is_fine():
    assert "nvcc_mismatch" not in codes(report(nvcc_version="13.1"))


def test_pci_bus_order_silences_the_numbering_warning():
    assert "device_order" not in codes(report(n_gpus=2, env={"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}))


def test_driver_check_works_from_nvml_cuda_number_alone():
    assert "driver_too_old" in codes(report(driver=None, cuda_driver="12.4", cuda_available=False))
    assert "driver_too_old" not in codes(report(driver=None, cuda_driver="13.0"))


# ------------------------------------------------------------------------------------------------ the data table


@pytest.mark.parametrize(
    "cuda, driver, os_name, tier",
    [
        ((13, 0), "580.65.06", "Linux", "strict"),
        ((13, 0), "580.65.05", "Linux", None),
        ((13, 2), "580.95.05", "Linux", "minor"),  # 13.2 on an R580 driver: minor-version compatibility
        ((13, 2), "595.45.04", "Linux", "strict"),
        ((12, 8), "570.26", "Linux", "strict"),
        ((12, 8), "535.104.05", "Linux", "minor"),
        ((12, 8), "525.60.12", "Linux", None),
        ((12, 6), "560.76", "Windows", "strict"),
        ((12, 6), "528.33", "Windows", "minor"),
        ((12, 6), "528.24", "Windows", None),
        ((13, 0), "581.15", "Windows", "minor"),  # no strict Windows row for 13.x: the R580 tier decides
        ((11, 8), "450.80.02", "Linux", "minor"),
        ((11, 8), None, "Linux", None),
    ],
)
def test_driver_tiers(cuda, driver, os_name, tier):
    assert driver_tier(cuda, driver, os_name) == tier


@pytest.mark.parametrize(
    "tag, cc, os_name, ok",
    [
        ("cu126", 61, "Linux", True),  # sm_60 cubin runs on 6.1
        ("cu126", 120, "Linux", False),  # Blackwell consumer needs cu128+
        ("cu128", 120, "Windows", True),
        ("cu130", 70, "Linux", False),  # CUDA 13 dropped sm_50–72
        ("cu130", 121, "Linux", True),
        ("cu130", 89, "Linux", True),  # Ada runs the sm_86 cubin
        ("cu118", 37, "Linux", False),
    ],
)
def test_wheel_architectures(tag, cc, os_name, ok):
    assert runs_on(WHEEL_TAGS[tag], cc, os_name) is ok


def test_arch_list_rule_matches_the_table_rule():
    for cc in (50, 61, 70, 75, 86, 89, 90, 100, 120, 121):
        assert arch_list_covers(CU130_ARCH, cc) == runs_on(WHEEL_TAGS["cu130"], cc, "Linux"), cc
    assert not arch_list_covers(["sm_90a"], 90)  # arch-specific cubins are not portable


def test_every_release_names_known_tags_and_its_pypi_default():
    for version, rel in cuda_tables.TORCH_RELEASES.items():
        assert set(rel.tags) <= set(WHEEL_TAGS) and rel.pypi_linux in rel.tags, version
    assert cuda_tables.torch_minor(cuda_tables.LATEST_TORCH) in cuda_tables.TORCH_RELEASES
    assert cuda_tables.pinned_torch() == "2.13.0"
    assert last_release_for(61, "Linux") == "2.14" and last_release_for(37, "Linux") is None


# ------------------------------------------------------------------------------------------------ install advice

PINNED = "2.13.0"
ADVICE = [
    # (cc, driver, driver CUDA, OS, torch) → tag, words the "why" must contain
    ("8.6", "580.65.06", "13.0", "Linux", PINNED, "cu130", "fully supports"),
    ("9.0", "595.45.04", "13.2", "Linux", PINNED, "cu132", "fully supports"),
    ("8.6", "570.124.06", "12.8", "Linux", PINNED, "cu126", "up to CUDA 12.8"),
    ("8.6", "535.104.05", "12.2", "Linux", PINNED, "cu126", "minor-version compatibility"),
    ("8.6", "470.82.01", "11.4", "Linux", PINNED, "cu126", "update the NVIDIA driver to 560.28.03"),
    ("6.1", "580.65.06", "13.0", "Linux", PINNED, "cu126", "sm_61"),
    ("6.1", "580.65.06", "13.0", "Linux", "2.15.0", "cu126", "torch 2.14 is the newest release"),
    ("12.0", "575.51.03", "12.9", "Linux", PINNED, "cu130", "update the NVIDIA driver to 580.65.06"),
    ("12.0", "580.65.06", "13.0", "Linux", PINNED, "cu130", "sm_120"),
    ("12.0", "576.02", "12.9", "Windows", "2.10.0", "cu128", "fully supports"),
    ("8.6", "560.76", "12.6", "Windows", PINNED, "cu126", "fully supports"),
    ("8.9", "581.15", "13.0", "Windows", PINNED, "cu130", "fully supports"),
    ("3.7", "470.82.01", "11.4", "Linux", PINNED, "cpu", "No torch wheel"),
    ("8.6", None, None, "Linux", PINNED, "cu130", "default build"),
    ("8.6", "580.65.06", "13.0", "Linux", "3.0.0", None, "not in this app's table"),
]


@pytest.mark.parametrize("cc, driver, cuda_driver, os_name, version, tag, why", ADVICE)
def test_install_advice_grid(cc, driver, cuda_driver, os_name, version, tag, why):
    a = install.advise(report(cc=cc, driver=driver, cuda_driver=cuda_driver, os_name=os_name), version, "x")
    assert a.tag == tag, a
    assert why in a.why, a.why
    if tag and tag != "cpu":
        assert a.command.endswith(f"--index-url https://download.pytorch.org/whl/{tag}")


def test_the_wildcard_version_is_quoted_for_the_shell():
    a = install.advise(report(cc="6.1"), "2.15.0")
    assert a.command == 'pip install "torch==2.14.*" --index-url https://download.pytorch.org/whl/cu126'


def test_no_gpu_gets_the_cpu_index_and_macos_gets_plain_pypi():
    assert install.advise(CASES["no_gpu"], PINNED).command == "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    mac = install.advise(CASES["mps"], PINNED)
    assert mac.command == "pip install torch==2.13.0" and "MPS" in mac.why


def test_advice_covers_the_pinned_and_the_latest_torch_and_every_gpu():
    r = report(cc="8.6")
    r = replace(r, gpus=[*r.gpus, GPU(index=1, name="old", compute_capability="6.1")])
    pinned, latest = install.install_advice(r)
    assert (pinned.torch_version, pinned.tag, pinned.label) == ("2.13.0", "cu126", "pinned in requirements.txt")
    assert latest.label == "latest release" and "2.14" in latest.command  # 2.15 has nothing for sm_61


def test_markdown_report_holds_verdicts_commands_and_notes():
    md = report_markdown(CASES["cpu_torch_with_gpu"])
    assert "## Verdicts" in md and "error: torch 2.13.0+cpu" in md
    assert "--index-url https://download.pytorch.org/whl/cu130" in md
    assert "only the NVIDIA driver must be new enough" in md and "PyPI mirrors" in md


def test_the_doctor_modules_the_server_imports_stay_torch_free():
    """The page imports these into the Streamlit server; torch there costs ~195 ms a frame (DESIGN.md)."""
    import subprocess
    import sys

    code = "import sys, core.env, core.env.smoke, core.env.bug_report, core.env.figures\nassert 'torch' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], check=True)


def test_advice_to_install_exactly_what_is_installed_says_it_is_already_right():
    from core.env.install import already_installed

    no_gpu = CASES["no_gpu"]
    cpu_here = replace(no_gpu, torch_version="2.13.0+cpu", torch_build="cpu", torch_cuda=None)
    pinned = install.advise(cpu_here, "2.13.0")
    assert pinned.tag == "cpu" and already_installed(cpu_here, pinned)
    assert not already_installed(cpu_here, install.advise(cpu_here, "2.15.0"))  # another version: install it
    assert "already installed here, nothing to do" in report_markdown(cpu_here)
    cuda_here = report()  # torch 2.13.0+cu130 on a driver that runs CUDA 13.0
    advice = install.advise(cuda_here, "2.13.0")
    assert already_installed(cuda_here, advice) == (advice.tag == "cu130")
    cpu_build_on_gpu = replace(cuda_here, torch_version="2.13.0+cpu", torch_build="cpu", torch_cuda=None)
    assert not already_installed(cpu_build_on_gpu, install.advise(cpu_build_on_gpu, "2.13.0"))  # the CPU build on a GPU box


def test_the_smoke_test_child_is_reaped_when_it_ends():
    import time

    from core.env.smoke import SmokeProcess

    smoke = SmokeProcess(quick=True, compile_check=False)
    deadline = time.monotonic() + 120
    while smoke._proc.returncode is None:  # set by the reader's wait(), not by anyone polling
        assert time.monotonic() < deadline
        time.sleep(0.2)
    state = Path(f"/proc/{smoke._proc.pid}/stat")
    assert not state.exists() or state.read_text().split()[2] != "Z"  # no <defunct> entry left behind
