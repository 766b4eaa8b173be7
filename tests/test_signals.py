"""Ctrl-C (SIGINT) and SIGTERM during a real `python -m theorems appendix` run: the process ends
within 2 s, removes its temporary folder, writes nothing and leaves no worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Claims whose full-profile studies run for several seconds each, so the run is busy when signalled.
BUSY = ["lu2019.macaron_euler_first_order", "calvello2024.mc_rate", "gumaan2025.error_rate"]


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; Linux)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_appendix_cleanly(tmp_path, sig, code):
    out = tmp_path / "app"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "theorems", "appendix", "--out", str(out), "--profile",
                             "full", "--jobs", "2", "--no-cache", *BUSY], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # wait until both workers exist and the temporary folder is there: the run is under way
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = [p for p in _children(proc.pid) if "spawn_main" in _cmdline(p)]
            if len(workers) >= 2 and any(p.name.startswith(".app.tmp-") for p in tmp_path.iterdir()):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        else:
            pytest.fail("the appendix never started its workers")
        time.sleep(1.0)  # let the workers import and start a study
        start = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"{sig.name}: stopped in {elapsed:.2f}s, exit {proc.returncode}")
    assert elapsed < 2.0, f"took {elapsed:.2f}s to stop"
    assert proc.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "temporary folder or output left behind"
    time.sleep(0.2)
    assert not [p for p in workers if _alive(p)], "worker processes left running"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
