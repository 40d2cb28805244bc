"""probe() never raises: each NVML failure becomes a note a person can read."""

import sys
import types

import pytest

from core import environment


class FakeNVMLError(Exception):
    pass


class LibraryNotFound(FakeNVMLError):
    pass


def fake_pynvml(fail_init=None, fail_memory=False):
    m = types.SimpleNamespace(NVMLError=FakeNVMLError, NVMLError_LibraryNotFound=LibraryNotFound)

    def init():
        if fail_init:
            raise fail_init

    def memory(_h):
        if fail_memory:
            raise FakeNVMLError("Not Supported")
        return types.SimpleNamespace(total=80 * 2**30, used=2**30)

    m.nvmlInit = init
    m.nvmlShutdown = lambda: None
    m.nvmlSystemGetDriverVersion = lambda: "580.65.06"
    m.nvmlDeviceGetCount = lambda: 1
    m.nvmlDeviceGetHandleByIndex = lambda i: i
    m.nvmlDeviceGetName = lambda h: b"NVIDIA H100 80GB HBM3"
    m.nvmlDeviceGetMemoryInfo = memory
    return m


def test_probe_on_this_machine_never_raises():
    report = environment.probe()
    assert report.torch_version
    assert report.training_device in ("cpu", "cuda:0", "mps")
    assert environment.EnvReport.from_dict(report.to_dict()) == report


def test_no_driver_is_a_plain_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(fail_init=LibraryNotFound()))
    report = environment.probe()
    assert any("No NVIDIA driver found" in n for n in report.notes)


@pytest.mark.parametrize("fail_memory", [False, True])
def test_gpus_are_listed_and_a_missing_field_is_na(monkeypatch, fail_memory):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(fail_memory=fail_memory))
    report = environment.probe()
    assert report.driver_version == "580.65.06"
    assert report.gpus[0].name == "NVIDIA H100 80GB HBM3"
    if fail_memory:
        assert report.gpus[0].memory_total_bytes is None
        assert any("memory N/A (Not Supported)" in n for n in report.notes)
    else:
        assert report.gpus[0].memory_total_bytes == 80 * 2**30
