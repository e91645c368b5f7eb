"""Shared fixtures: every test gets its own segment file (removed afterwards) as $SHMBAL_SEGMENT.

The tests need the built C library: run them through `swift test` (Tests/BindingsTests), or set
SHMBAL_LIBRARY=.build/debug/libshmbalance.so and PYTHONPATH=bindings/python yourself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

SEED = Path(__file__).resolve().parent / "seed"


@pytest.fixture
def segment(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="shmbal-py-")
    path = os.path.join(directory, "seg")
    monkeypatch.setenv("SHMBAL_SEGMENT", path)
    yield path
    shutil.rmtree(directory, ignore_errors=True)


def shmbal(*args: str) -> Tuple[int, str, str]:
    """Runs the `shmbal` CLI ($SHMBAL_CLI, set by the Swift test that runs pytest)."""
    cli = os.environ.get("SHMBAL_CLI")
    assert cli, "SHMBAL_CLI must name the built shmbal executable"
    p = subprocess.run([cli, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def snapshot(manager, currencies: List[str]) -> list:
    """Everything a mutation could change, for asserting that nothing changed."""
    out = []
    for c in currencies:
        b = manager.get(c)
        out.append((b.slots, b.epoch, b.op_count, b.strategy_count, b.credit_limit, b.names))
    return out
