"""The account a new apptest.ai emulator serves: its credentials and project presets."""

from __future__ import annotations

import json
from typing import Any

SANDBOX_USER_ID = "sandbox-apptest-user"
SANDBOX_ACCESS_KEY = "sandbox-apptest-key"


def _devices(*names: str, available: bool = True) -> list[dict[str, Any]]:
    return [{"name": name, "available": available} for name in names]


# Project presets, keyed by pid. 511 and 512 exist to reach 4080 and 4081.
SANDBOX_PROJECTS: dict[str, dict[str, Any]] = {
    "509": {
        "pid": 509,
        "name": "Demo Android",
        "platform": "android",
        "time_limit": 10,
        "devices": _devices("Galaxy S22 (Android 13)", "Pixel 7 (Android 14)", "Galaxy A52 (Android 12)"),
    },
    "510": {
        "pid": 510,
        "name": "Demo iOS",
        "platform": "ios",
        "time_limit": 10,
        "devices": _devices("iPhone 14 (iOS 17)", "iPhone 12 (iOS 16)"),
    },
    "511": {"pid": 511, "name": "No device preset", "platform": "android", "time_limit": 10, "devices": []},
    "512": {
        "pid": 512,
        "name": "Devices unavailable",
        "platform": "android",
        "time_limit": 10,
        "devices": _devices("Galaxy S10 (Android 11)", available=False),
    },
}


def initial_data() -> dict[str, Any]:
    return {"projects": json.loads(json.dumps(SANDBOX_PROJECTS)), "testsets": {}, "maintenance": False}
