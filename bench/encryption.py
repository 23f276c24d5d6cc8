"""What encryption at rest costs (issue 22): plan and apply of one change on a 10,000-resource state,
plain against encrypted (goal ≤ 1.10×), and PBKDF2 at the default iterations (goal ≤ 0.5 s per command).

The encrypted plan uses the defaults (600,000 iterations of SHA-512): the key is derived once per
command, so the ratio includes that derivation. Each figure is a ``labform`` process of its own
against a Bitbar emulator of its own, the median of three.

    python bench/encryption.py           # 10,000 resources
    python bench/encryption.py 2000      # a quicker look
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from emulated import EmulatorProcess, labform
from plan_cases import parameters
from table import Row, markdown, median_of

PASSPHRASE_ENV = "LABFORM_BENCH_PASSPHRASE"
ENCRYPTION = f"""encryption:
  key_provider:
    pbkdf2:
      main: {{passphrase: "${{env.{PASSPHRASE_ENV}}}"}}
  method:
    aes_gcm:
      main: {{keys: key_provider.pbkdf2.main}}
  state: {{method: method.aes_gcm.main}}
"""


def _one_change(size: int, encrypted: bool) -> tuple[float, float]:
    """(plan, apply) seconds for one changed parameter value on a state of ``size`` resources."""
    block = ENCRYPTION if encrypted else ""
    with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
        plan = Path(folder, "main.yaml")
        plan.write_text(parameters(size, projects=size // 100) + block)
        labform(cloud, "apply", folder, "--auto-approve")
        values = iter(range(1_000))

        def changed() -> None:
            plan.write_text(parameters(size, projects=size // 100).replace('"v0"', f'"changed-{next(values)}"') + block)

        changed()
        planned = median_of(3, lambda: labform(cloud, "plan", folder, "--detailed-exitcode", ok=(2,)))

        def apply_one() -> float:
            changed()
            return labform(cloud, "apply", folder, "--auto-approve")

        applied = median_of(3, apply_one)
    return planned, applied


def derivation(clock=time.perf_counter) -> float:
    """One PBKDF2 at OpenTofu's defaults, as the pbkdf2 key provider runs it (in process)."""
    started = clock()
    hashlib.pbkdf2_hmac("sha512", b"a bench passphrase, long enough", os.urandom(32), 600_000, 32)
    return clock() - started


def encryption_case(size: int = 10_000) -> list[Row]:
    os.environ.setdefault(PASSPHRASE_ENV, "a bench passphrase, long enough")
    plain_plan, plain_apply = _one_change(size, encrypted=False)
    sealed_plan, sealed_apply = _one_change(size, encrypted=True)
    derive = median_of(3, derivation)
    cpu = median_of(3, lambda: derivation(time.process_time))  # what it costs on a core of its own
    rows = []
    for verb, plain, sealed in (("plan", plain_plan, sealed_plan), ("apply", plain_apply, sealed_apply)):
        rows.append(
            Row(
                f"`{verb}` of one change on a {size:,}-resource state, encrypted (pbkdf2 defaults) vs plain",
                "≤ 1.10×",
                f"{sealed:.2f} s vs {plain:.2f} s: {sealed / plain:.2f}×",
                sealed / plain <= 1.10,
            )
        )
    rows.append(
        Row(
            "pbkdf2 key derivation, 600,000 iterations of SHA-512 (once per command)",
            "≤ 0.5 s",
            f"{derive:.2f} s wall, {cpu:.2f} s CPU",
            derive <= 0.5,
        )
    )
    return rows


if __name__ == "__main__":
    print(markdown(encryption_case(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
