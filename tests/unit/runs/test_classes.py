"""The classes table (schema v4) on SQLite and, where DESCENT_TEST_PG_URL is set, PostgreSQL."""

import os

import pytest

from core.runs import RunStore
from core.runs.classes import SavedClass, list_classes, load_class, save_class

PG_URL = os.environ.get("DESCENT_TEST_PG_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="DESCENT_TEST_PG_URL not set"))]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = RunStore(f"sqlite:///{tmp_path / 'runs.db'}" if request.param == "sqlite" else PG_URL)
    yield s
    s.close()


def test_a_class_is_saved_replaced_and_listed_by_its_teacher(store):
    code = f"T{os.getpid() % 100000:05d}"  # PostgreSQL's database outlives the test: a code of this run
    rows = [{"run_id": "r1", "round": 1, "nickname": "Ada", "learning rate": 0.1, "prediction": "converges", "outcome": "slow",
             "epochs to converge": None}]  # fmt: skip
    save_class(store, SavedClass(code, "good", "user:teacher", 1_000.0, rows))
    save_class(store, SavedClass(code, "good", "user:teacher", 1_000.0, rows * 2, ended_at=2_000.0))
    back = load_class(store, code)
    assert back == SavedClass(code, "good", "user:teacher", 1_000.0, rows * 2, ended_at=2_000.0)
    assert code in [c.code for c in list_classes(store, "user:teacher")] and list_classes(store, "user:nobody") == []
    assert load_class(store, "NOSUCH") is None
