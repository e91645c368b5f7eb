"""`pip install bindings/python` works with no compiler: a pure-Python install (ctypes; the C
extension comes with the platform wheel of scripts/build-wheel), type hints included, and a
libshmbalance.so put beside the package before installing ships inside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def test_pip_install_with_the_library_inside(segment: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="shmbal-pip-"))
    try:
        source = work / "src"
        shutil.copytree(PROJECT, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "tests", "*.so"))
        shutil.copy(os.environ["SHMBAL_LIBRARY"], source / "shmbalance" / "libshmbalance.so")
        target = work / "site"
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
             "--target", str(target), str(source)],
            capture_output=True, text=True, timeout=600,
        )
        assert pip.returncode == 0, pip.stderr
        installed = sorted(p.name for p in (target / "shmbalance").iterdir() if p.name != "__pycache__")
        assert installed == ["__init__.py", "_hot.py", "_native.py", "books.py", "codes.py", "errors.py", "holds.py", "libshmbalance.so",
                             "manager.py", "names.py", "py.typed", "quotes.py"]
        env = {k: v for k, v in os.environ.items() if k not in ("SHMBAL_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
        env["PYTHONPATH"] = str(target)
        code = ("import shmbalance as hft; m = hft.StrategyBalanceManager(hft.Exchange.KRAKEN); "
                "m.reset(hft.Currency.USDC, 10000.0); m.allocate(hft.Currency.USDC, index=2, amount=2000.0); "
                "print(hft.__file__, m.get_balance(hft.Currency.USDC, index=1), hft.EXTENSION)")
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert run.stdout.split() == [str(target / "shmbalance" / "__init__.py"), "8000.0", "False"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
