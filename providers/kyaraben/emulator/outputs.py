"""The text kyaraben's remote commands print, and the VM facts it reports (properties, TOTP).

All of it is a function of its inputs (ids, counts, virtual time), so tests can
predict it and a second run prints the same.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

# The doc's GET /android/{id}/properties example, its "..." left out.
PROPERTIES = {
    "aicVM.gles": "1",
    "aicVM.gles.renderer": "1",
    "aicVM.inited": "1",
    "aicd.ac.online": "1",
    "aicd.accelerometer.x": "0.000000",
    "aicd.accelerometer.y": "9.776219",
    "aicd.accelerometer.z": "0.813417",
    "sys.settings_system_version": "12",
    "sys.sysctl.extra_free_kbytes": "5625",
    "sys.sysctl.tcp_def_init_rwnd": "60",
    "sys.usb.config": "adb",
    "sys.usb.state": "adb",
    "wifi.interface": "eth1",
    "wifi.interface.mac": "fa:16:3e:6e:9d:aa",
    "wlan.driver.status": "ok",
}
TOTP_STEP = 30


def install(apk_id: str, size: int, problem: str) -> dict[str, str]:
    """``adb install``'s answer, as in the doc's command example."""
    if problem:
        return {
            "returncode": "1",
            "stdout": f"pkg: /data/local/tmp/{apk_id}.apk\nFailure [INSTALL_PARSE_FAILED_NOT_APK]",
            "stderr": problem,
        }
    return {
        "returncode": "0",
        "stdout": f"pkg: /data/local/tmp/{apk_id}.apk\nSuccess",
        "stderr": f"3880 KB/s ({size} bytes in 0.219s)",
    }


def monkey(package: str, events: int) -> dict[str, str]:
    return {
        "returncode": "0",
        "stdout": f":Monkey: seed=0 count={events}\n:AllowPackage: {package}\nEvents injected: {events}\n// Monkey finished",
        "stderr": "",
    }


def instrumentation(target: str, tests: int, failures: int, seconds: float | None = None) -> str:
    """``am instrument -r``'s report: one status block per test, then the run's ``Time:`` (where
    known) and the summary, as am instrument prints them."""
    package = target.split("/", 1)[0]
    lines = [f"INSTRUMENTATION_STATUS: numtests={tests}", "INSTRUMENTATION_STATUS: stream="]
    for index in range(tests):
        failed = index < failures
        lines.append(f"{package}.Scenario{index + 1}:{' FAILED' if failed else ''}")
        lines.append(f"INSTRUMENTATION_STATUS_CODE: {-2 if failed else 0}")
    summary = (
        f"FAILURES!!!\nTests run: {tests},  Failures: {failures}"
        if failures
        else f"OK ({tests} test{'s' if tests != 1 else ''})"
    )
    timing = [] if seconds is None else [f"Time: {seconds:.3f}"]
    return "\n".join(lines + timing + [summary, "INSTRUMENTATION_CODE: -1"])


def testrun(target: str, tests: int, failures: int) -> dict[str, str]:
    return {"returncode": "0", "stdout": instrumentation(target, tests, failures), "stderr": ""}


def totp(secret: str, now: float) -> str:
    """A 6-digit RFC 6238 password for the VM's display, valid for one 30-second step."""
    counter = struct.pack(">Q", int(now // TOTP_STEP))
    digest = hmac.new(secret.encode(), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"
