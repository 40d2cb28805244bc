"""Shared test set-up.

- Every test process (and the servers the browser tests start) writes runs to a throwaway store.
- Every test starts in English: a test that reads Chinese asks for the `chinese` fixture.
- AppTest runs the app script as __main__ and leaves it there; a process spawned afterwards would re-run
  the app script in the child (multiprocessing's spawn re-imports __main__). Put the real one back.
"""

import os
import sys
import tempfile

import pytest

from core.i18n import use

os.environ.setdefault("DESCENT_DB", os.path.join(tempfile.mkdtemp(prefix="descent-test-"), "runs.db"))
_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main():
    yield
    sys.modules["__main__"] = _MAIN


@pytest.fixture(autouse=True)
def _english_after():
    """Tests and the CLI choose a language with use(), per thread: whatever one test chose, the next starts in English."""
    yield
    use("en")


@pytest.fixture
def chinese():
    """This test's thread reads Chinese (the app sets it per session). AppTest calls a widget's format_func in the
    test's thread to find an option, so an AppTest of a Chinese page needs this too."""
    use("zh")
