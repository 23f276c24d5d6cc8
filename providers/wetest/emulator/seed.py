"""What a new WeTest emulator holds: two projects, an Android and an iOS cloud, their devices and model lists."""

from __future__ import annotations

from typing import Any

SANDBOX_SECRET_ID = "sandbox-wetest-id"
SANDBOX_SECRET_KEY = "sandbox-wetest-key"

SANDBOX_PROJECTS = [
    {"project_id": "pj-demo", "project_name": "Demo Project"},
    {"project_id": "pj-shop", "project_name": "Shop App"},
]
SANDBOX_CLOUDS = [
    {"cloud_id": 1, "cloud_name": "Android Public Cloud", "platform": "android"},
    {"cloud_id": 2, "cloud_name": "iOS Public Cloud", "platform": "ios"},
]
# cloud, model_id, manufacture, model, version, ram (MB), resolution, cores, GHz, device ids
_MODELS = [
    (1, 501, "Samsung", "Galaxy S23", "14", 8192, "1080x2340", 8, 3.36, (10001, 10002)),
    (1, 502, "Google", "Pixel 8", "14", 8192, "1080x2400", 9, 2.91, (10003,)),
    (1, 503, "Xiaomi", "Redmi Note 12", "13", 4096, "1080x2400", 8, 2.4, (10004,)),
    (1, 504, "OnePlus", "OnePlus 11", "13", 12288, "1440x3216", 8, 3.2, (10005, 10006)),
    (1, 505, "Huawei", "P30", "10", 6144, "1080x2340", 8, 2.6, (10007,)),
    (2, 601, "Apple", "iPhone 15", "17.4", 6144, "1179x2556", 6, 3.46, (20001, 20002)),
    (2, 602, "Apple", "iPhone 13", "16.7", 4096, "1170x2532", 6, 3.23, (20003,)),
    (2, 603, "Apple", "iPad Air 5", "17.2", 8192, "1640x2360", 8, 3.2, (20004,)),
]
OFFLINE_DEVICES = frozenset({10007})
# filter_type 1 = a list of model ids, 2 = a list of device ids (doc line 225).
SANDBOX_MODEL_LISTS = [
    {
        "id": 301,
        "project": "pj-demo",
        "name": "Top Android phones",
        "cloud_id": 1,
        "filter_type": 1,
        "members": [501, 502, 503],
    },
    {
        "id": 302,
        "project": "pj-demo",
        "name": "Lab iPhones",
        "cloud_id": 2,
        "filter_type": 2,
        "members": [20001, 20003],
    },
    {"id": 303, "project": "pj-shop", "name": "Samsung flagships", "cloud_id": 1, "filter_type": 1, "members": [501]},
]


def _seed_devices() -> list[dict[str, Any]]:
    devices = []
    for cloud_id, model_id, maker, model, version, ram, resolution, cores, ghz, ids in _MODELS:
        for device_id in ids:
            devices.append(
                {
                    "cloud_id": cloud_id,
                    "device_id": device_id,
                    "model_id": model_id,
                    "manufacture": maker,
                    "model": model,
                    "version": version,
                    "ram": ram,
                    "resolution": resolution,
                    "cpu_total": cores,
                    "cpu_ghz": ghz,
                    "location": "Singapore",
                    "online": device_id not in OFFLINE_DEVICES,
                }
            )
    return devices


def initial_data() -> dict[str, Any]:
    return {
        "projects": [dict(p) for p in SANDBOX_PROJECTS],
        "clouds": [dict(c) for c in SANDBOX_CLOUDS],
        "devices": _seed_devices(),
        "model_lists": [dict(m) for m in SANDBOX_MODEL_LISTS],
        "apps": {},
        "scripts": {},
        "tests": {},
    }
