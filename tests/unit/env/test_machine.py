"""probe() never raises: each NVML failure becomes "N/A (reason)" on its field or a status a person can act on."""

import types

import pytest

from core.env import machine
from core.env.bug_report import report_dict, report_json, report_markdown
from core.env.nvml import (
    FakeNvml,
    LiveSampler,
    NvmlDriverMismatch,
    NvmlError,
    NvmlFunctionNotFound,
    NvmlLibraryNotFound,
    NvmlNotSupported,
    PynvmlAdapter,
    demo_nvml,
    read_gpu,
)
from core.env.report import shown

GIB = 2**30
FULL = {
    "name": "NVIDIA A100-SXM4-80GB",
    "uuid": "GPU-1234",
    "compute_capability": (8, 0),
    "memory": (80 * GIB, 3 * GIB),
    "utilization": (97, 40),
    "temperature_c": 63,
    "power_draw_w": 312.5,
    "power_limit_w": 400.0,
    "clocks_mhz": (1410, 1593),
    "fan_pct": 30,
    "pcie": (4, 16),
    "persistence": True,
    "mig": False,
    "ecc_uncorrected": 0,
    "processes": [(1234, 2 * GIB), (99, None)],
}
METHOD_FIELDS = {
    "uuid": ["uuid"],
    "compute_capability": ["compute_capability"],
    "memory": ["memory_total_bytes", "memory_used_bytes"],
    "utilization": ["utilization_pct", "memory_utilization_pct"],
    "temperature_c": ["temperature_c"],
    "power_draw_w": ["power_draw_w"],
    "power_limit_w": ["power_limit_w"],
    "clocks_mhz": ["sm_clock_mhz", "memory_clock_mhz"],
    "fan_pct": ["fan_pct"],
    "pcie": ["pcie_generation", "pcie_width"],
    "persistence": ["persistence_mode"],
    "mig": ["mig_mode"],
    "ecc_uncorrected": ["ecc_uncorrected"],
    "processes": ["processes"],
}


def test_probe_on_this_machine_never_raises():
    report = machine.probe()
    assert report.torch_version
    assert report.torch_build in ("cpu", "cuda", "rocm")
    assert report.training_device in ("cpu", "cuda:0", "mps")
    assert report.nvml_status  # "ok" on a GPU machine, else why not
    assert machine.EnvReport.from_dict(report_dict(report)) == report


def test_a_full_gpu_is_read_field_by_field():
    report = machine.probe(nvml=FakeNvml([FULL], driver="570.124.06", cuda=12080))
    assert report.nvml_status == "ok" and report.driver_version == "570.124.06" and report.cuda_driver_version == "12.8"
    g = report.gpus[0]
    assert (g.name, g.compute_capability, g.memory_total_bytes, g.utilization_pct, g.pcie_generation) == (
        "NVIDIA A100-SXM4-80GB",
        "8.0",
        80 * GIB,
        97,
        4,
    )
    assert g.processes == [[1234, 2 * GIB], [99, None]] and g.na == {}


@pytest.mark.parametrize("method", list(METHOD_FIELDS))
def test_each_field_not_supported_is_na_with_a_reason_and_the_rest_still_read(method):
    gpu = dict(FULL)
    gpu[method] = NvmlNotSupported("Not Supported")
    g = read_gpu(FakeNvml([gpu]), 0)
    for name in METHOD_FIELDS[method]:
        assert getattr(g, name) is None
        assert g.na[name] == "not supported on this GPU"
        assert g.show(name) == "N/A (not supported on this GPU)"
    others = [n for m, names in METHOD_FIELDS.items() if m != method for n in names]
    assert all(getattr(g, n) is not None for n in others)


def test_a_gpu_that_reports_nothing_but_its_name_still_renders():
    report = machine.probe(nvml=FakeNvml([{"name": "Mystery GPU"}]))
    assert report.gpus[0].name == "Mystery GPU"
    assert "N/A (not supported on this GPU)" in report_markdown(report)


@pytest.mark.parametrize(
    "error, expect",
    [
        (NvmlLibraryNotFound("NVML Shared Library Not Found"), "No NVIDIA driver found"),
        (NvmlDriverMismatch("RM has detected an NVML/RM version mismatch."), "Reboot"),
        (NvmlFunctionNotFound("Function Not Found"), "Update the driver"),
    ],
)
def test_fatal_nvml_errors_become_a_clear_status(error, expect):
    report = machine.probe(nvml=FakeNvml([FULL], init_error=error))
    assert expect in report.nvml_status
    assert report.nvml_error == type(error).__name__ and report.gpus == []


class Exploding:
    """An adapter where every call after init fails in an unexpected way."""

    def init(self):
        pass

    def shutdown(self):
        raise NvmlError("shutdown failed")

    def __getattr__(self, name):
        def boom(*_a):
            raise RuntimeError(f"{name} exploded")

        return boom


def test_probe_never_raises_even_when_the_adapter_misbehaves():
    report = machine.probe(nvml=Exploding())
    assert "exploded" in shown(report.nvml_status)
    report_markdown(report)
    report_json(report)


def test_driver_cuda_version_not_supported_is_a_note():
    nvml = FakeNvml([FULL])
    nvml.cuda_driver_version = lambda: (_ for _ in ()).throw(NvmlNotSupported("Not Supported"))
    report = machine.probe(nvml=nvml)
    assert report.cuda_driver_version is None and any("driver CUDA version: N/A" in shown(n) for n in report.notes)


# ------------------------------------------------------------------------------------- the real adapter, faked pynvml


class FakeNVMLError(Exception):
    def __init__(self, value):
        super().__init__({3: "Not Supported", 12: "NVML Shared Library Not Found", 18: "RM version mismatch"}.get(value, "Unknown"))
        self.value = value


def fake_pynvml(**overrides):
    mem = types.SimpleNamespace(total=24 * GIB, used=GIB)
    m = types.SimpleNamespace(
        NVMLError=FakeNVMLError,
        nvmlMemory_v2=0x02000028,
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: b"550.54.14",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetName=lambda h: b"NVIDIA GeForce RTX 4090",
        nvmlDeviceGetMemoryInfo=lambda h, version=None: mem,
        nvmlDeviceGetPowerUsage=lambda h: 123456,
    )
    for k, v in overrides.items():
        setattr(m, k, v)
    return m


def raises(code):
    def f(*_a, **_k):
        raise FakeNVMLError(code)

    return f


@pytest.mark.parametrize("code, kind", [(3, NvmlNotSupported), (12, NvmlLibraryNotFound), (18, NvmlDriverMismatch), (999, NvmlError)])
def test_pynvml_error_codes_map_to_our_types(code, kind):
    nvml = PynvmlAdapter(fake_pynvml(nvmlInit=raises(code)))
    with pytest.raises(kind):
        nvml.init()


def test_a_function_missing_from_pynvml_is_function_not_found():
    with pytest.raises(NvmlFunctionNotFound):
        PynvmlAdapter(fake_pynvml()).fan_pct("h0")  # the fake has no nvmlDeviceGetFanSpeed


def test_memory_falls_back_to_v1_when_v2_is_not_supported():
    calls = []

    def memory(h, version=None):
        calls.append(version)
        if version:
            raise FakeNVMLError(3)
        return types.SimpleNamespace(total=8 * GIB, used=GIB)

    assert PynvmlAdapter(fake_pynvml(nvmlDeviceGetMemoryInfo=memory)).memory("h0") == (8 * GIB, GIB)
    assert calls == [0x02000028, None]


def test_probe_through_the_real_adapter_reads_bytes_and_milliwatts():
    report = machine.probe(nvml=PynvmlAdapter(fake_pynvml()))
    g = report.gpus[0]
    assert report.driver_version == "550.54.14" and report.cuda_driver_version == "12.4"
    assert g.name == "NVIDIA GeForce RTX 4090" and g.memory_total_bytes == 24 * GIB and g.power_draw_w == pytest.approx(123.456)
    assert "fan_pct" in g.na  # missing function → N/A, not a crash


# --------------------------------------------------------------------------------------------- other probes, sampler


def test_torch_locations_finds_every_copy(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    (a / "torch").mkdir(parents=True)
    (a / "torch" / "__init__.py").write_text("")
    (b / "torch-2.13.0.dist-info").mkdir(parents=True)
    c.mkdir()
    assert machine.torch_locations([str(a), str(b), str(c), str(a), str(tmp_path / "missing")]) == [str(a), str(b)]


def test_env_vars_and_nvml_packages_are_recorded(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    report = machine.probe(nvml=FakeNvml([]))
    assert report.env == {"CUDA_VISIBLE_DEVICES": "1,0"}
    assert "nvidia-ml-py" in report.nvml_packages


def test_live_sampler_keeps_a_bounded_shared_history():
    sampler = LiveSampler(demo_nvml, min_interval_s=0.0, window=5)
    for _ in range(8):
        gpus, history = sampler.sample()
    assert gpus[0].utilization_pct is not None and gpus[0].fan_pct is None
    assert len(history[0]["t"]) == 5 and len(history[0]["util"]) == 5
    assert 0 < history[0]["mem"][-1] < 100


def test_live_sampler_rate_limits_and_reports_a_missing_driver():
    sampler = LiveSampler(demo_nvml, min_interval_s=60.0)
    sampler.sample()
    sampler.sample()
    assert len(sampler.sample()[1][0]["t"]) == 1
    broken = LiveSampler(lambda: FakeNvml([], init_error=NvmlLibraryNotFound("x")))
    assert broken.sample() == ([], {}) and "No NVIDIA driver found" in broken.error
