"""Shared test set-up.

- Every test process (and the servers the browser tests start) writes runs to a throwaway store.
- AppTest runs the app script as __main__ and leaves it there; a process spawned afterwards would re-run
  the app script in the child (multiprocessing's spawn re-imports __main__). Put the real one back.
"""

import os
import sys
import tempfile

import pytest

os.environ.setdefault("DESCENT_DB", os.path.join(tempfile.mkdtemp(prefix="descent-test-"), "runs.db"))
_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main():
    yield
    sys.modules["__main__"] = _MAIN
