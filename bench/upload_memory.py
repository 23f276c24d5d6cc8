"""Peak memory growth of a large Bitbar upload (the goal: under 64 MiB for 200 MiB).

The emulator runs in its own process (``labform sandbox``) so only the
uploading side is measured. Peak RSS (ru_maxrss) is read before and after the
upload; the difference is what streaming from disk costs.

    python bench/upload_memory.py [SIZE_MIB]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from providers.bitbar.client import BitbarClient
from providers.transfer import streamed_part


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(size_mib: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "engine", "sandbox", "--data-dir", folder], stdout=subprocess.PIPE, text=True
        )
        try:
            line = next(row for row in iter(sandbox.stdout.readline, "") if row.startswith("bitbar"))
            _, url, _, settings = line.split(None, 3)
            key = json.loads(settings)["api_key"]
            project = httpx.post(
                url + "/api/v2/me/projects", data={"name": "bench", "type": "ANDROID"},
                auth=(key, ""), headers={"Accept": "application/json"},
            ).json()
            big = Path(folder) / "big.apk"
            with big.open("wb") as handle:
                handle.truncate(size_mib * 1024 * 1024)
            client = BitbarClient(url, key, None, None, timeout=300)
            before = peak_rss_mib()
            started = time.monotonic()
            with streamed_part(big, lambda message: None) as part:
                client.upload(f"/api/v2/me/projects/{project['id']}/files/application", "upload", part)
            elapsed = time.monotonic() - started
            growth = peak_rss_mib() - before
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
    print(f"uploaded {size_mib} MiB in {elapsed:.1f}s; peak RSS before {before:.1f} MiB, growth {growth:.1f} MiB (goal < 64 MiB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
