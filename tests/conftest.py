"""Every test process (and the servers the browser tests start) writes runs to a throwaway store."""

import os
import tempfile

os.environ.setdefault("DESCENT_DB", os.path.join(tempfile.mkdtemp(prefix="descent-test-"), "runs.db"))
