"""A large Bitbar upload through ``labform apply``: memory, hashing and bytes sent.

The emulator runs in its own process (bench/emulated.py), so only labform's
side is measured; labform applies in a fresh process of this script, so its
peak RSS (ru_maxrss) before and after the apply gives what streaming from disk
costs, and the file's sha256 digests are counted (the plan hashes the file;
the apply must not hash it again). A second apply of the unchanged file must
send nothing.

    python bench/upload_memory.py [SIZE_MIB]
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from emulated import BITBAR, EmulatorProcess
from table import Row, markdown

from labform.engine import runner
from labform.engine.options import PlanOptions


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def plan_text(path: Path) -> str:
    return BITBAR + (
        "resources:\n  bitbar_project.bench:\n    name: bench\n    type: ANDROID\n"
        f"  bitbar_file.big:\n    project: ${{bitbar_project.bench.id}}\n    kind: application\n    path: {path}\n"
    )


def measure(size_mib: int) -> dict[str, float]:
    """In this process: peak memory growth, sha256 digests of the first apply, bytes the second sent."""
    digests: list[str] = []
    real = hashlib.new
    with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
        big = Path(folder, "big.apk")
        with big.open("wb") as handle:
            handle.truncate(size_mib * 2**20)
        Path(folder, "main.yaml").write_text(plan_text(big))
        workspace = runner.Workspace(Path(folder))
        with (
            mock.patch.dict("os.environ", cloud.environment()),
            mock.patch.object(hashlib, "new", lambda name, *a: digests.append(name) or real(name, *a)),
        ):
            before = peak_rss_mib()
            first = runner.apply(workspace, PlanOptions())
            growth = peak_rss_mib() - before
            hashed = digests.count("sha256")
            sent_first = sum(r["body_bytes"] for r in cloud.requests() if r["method"] == "POST")
            runner.apply(workspace, PlanOptions())
            sent_again = sum(r["body_bytes"] for r in cloud.requests() if r["method"] == "POST") - sent_first
    assert first.result is not None and first.result.ok, first.result
    return {"growth": growth, "hashed": hashed, "sent_again": sent_again}


def upload_case(size_mib: int = 1024) -> list[Row]:
    """``measure`` in a process of its own: a peak is the whole process's, earlier cases' included."""
    done = subprocess.run(
        [sys.executable, __file__, str(size_mib), "--figures"], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    growth, hashed, sent_again = figures["growth"], figures["hashed"], figures["sent_again"]
    return [
        Row(
            f"upload of {size_mib:,} MiB: labform's peak memory growth",
            "< 64 MiB (streamed from disk)",
            f"{growth:.1f} MiB",
            growth < 64,
        ),
        Row(
            f"upload of {size_mib:,} MiB: times the file is hashed by one uploading apply",
            "once",
            f"{hashed}",
            hashed == 1,
        ),
        Row(f"upload of {size_mib:,} MiB: bytes sent again when unchanged", "0", f"{sent_again:,}", sent_again == 0),
    ]


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    print(json.dumps(measure(size)) if "--figures" in sys.argv else markdown(upload_case(size)))
