import os
import shutil
import tempfile

import pytest

from harness import Cluster, MockCrm, ROOT, SENDER_BIN, MOCK_BIN
from scenario import SCHEMA
from sync_run import Run


def pytest_configure(config):
    for binary in (SENDER_BIN, MOCK_BIN):
        if not os.path.exists(binary):
            raise pytest.UsageError(f"{binary} is missing: build with cmake first (tests/run_all.sh does)")


@pytest.fixture(scope="session")
def cluster():
    c = Cluster(port=int(os.environ.get("CRMSYNC_E2E_PORT", "56432")))
    c.start()
    c.query(SCHEMA)
    yield c
    c.stop()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="crmsync-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def mock_crm(workdir):
    m = MockCrm(workdir)
    m.start()
    yield m
    m.stop()


@pytest.fixture
def run_factory(cluster, mock_crm, workdir):
    runs = []

    def make(crm, fmt, extra=""):
        r = Run(cluster, mock_crm, workdir, crm, fmt, extra)
        runs.append(r)
        return r

    yield make
    for r in runs:
        r.close()
