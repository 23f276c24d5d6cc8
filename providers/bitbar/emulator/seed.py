"""The one account and the catalogue a new Bitbar emulator starts with.

One user (with the sandbox credentials), about 60 devices whose names and ids
are fixed (the doc's examples find theirs) and whose prices and versions
follow the seed, the public device groups, and the first ids of each kind.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from labform.providers.bitbar.emulator.formats import slug
from labform.providers.emulation import seeded_random

SANDBOX_API_KEY = "sandbox-bitbar-key"
SANDBOX_USERNAME = "sandbox@labform.dev"
SANDBOX_PASSWORD = "sandbox-password"

# Seconds an OAuth2 access token lives, unless the options' credentials say token_ttl.
DEFAULT_TOKEN_TTL = 3599

USER_ID = 31595291
USER_DISPLAY_NAME = "Sandbox User"
FREE_DEVICES_GROUP_ID = 1
DEVICE_IDS = range(300, 360)

PINNED_DEVICES = {304: ("Sony Xperia Z C6603", "ANDROID"), 337: ("Samsung Galaxy S4 GT-I9500", "ANDROID")}
# 20 more Sony phones: with the pinned Xperia Z, search=Sony finds 21, as in the doc's example.
SONY_MODELS = (
    "Sony Xperia Z1 C6903", "Sony Xperia Z2 D6503", "Sony Xperia Z3 D6603", "Sony Xperia Z3 Compact D5803",
    "Sony Xperia Z5 E6653", "Sony Xperia Z5 Compact E5823", "Sony Xperia Z5 Premium E6853",
    "Sony Xperia X F5121", "Sony Xperia X Compact F5321", "Sony Xperia XZ F8331", "Sony Xperia XZ1 G8341",
    "Sony Xperia XZ2 H8216", "Sony Xperia XZ3 H8416", "Sony Xperia XA F3111", "Sony Xperia XA1 G3121",
    "Sony Xperia XA2 H3113", "Sony Xperia 1 J9110", "Sony Xperia 5 J9210", "Sony Xperia 10 I4113",
    "Sony Xperia M C1905",
)  # fmt: skip
OTHER_ANDROID_MODELS = (
    "Samsung Galaxy S3 GT-I9300", "Samsung Galaxy S5 SM-G900F", "Samsung Galaxy S6 SM-G920F",
    "Samsung Galaxy S7 SM-G930F", "Samsung Galaxy S8 SM-G950F", "Samsung Galaxy S9 SM-G960F",
    "Samsung Galaxy S10 SM-G973F", "Samsung Galaxy Note3 SM-N9005", "Samsung Galaxy Note8 SM-N950F",
    "Google Nexus 4 LG-E960", "Google Nexus 5 LG-D821", "Google Nexus 7 ME370T", "Google Pixel 2 G011A",
    "Google Pixel 4 G020I", "Google Pixel 6 GB7N6", "LG G2 D802", "LG G4 H815", "HTC One M7 PN071",
    "HTC One M8 0P6B100", "Motorola Moto G XT1032", "Huawei P20 EML-L29", "Huawei P30 ELE-L29",
    "OnePlus 6 A6003", "Xiaomi Mi9 M1902F1G",
)  # fmt: skip
APPLE_MODELS = (
    "Apple iPhone 5s A1457", "Apple iPhone 6 A1586", "Apple iPhone 6s A1688", "Apple iPhone 7 A1778",
    "Apple iPhone 8 A1905", "Apple iPhone X A1901", "Apple iPhone XS A2097", "Apple iPhone 11 A2221",
    "Apple iPhone 12 A2403", "Apple iPhone 13 A2633", "Apple iPhone SE A1723", "Apple iPad Air2 A1566",
    "Apple iPad mini4 A1538", "Apple iPad Pro11 A1980",
)  # fmt: skip
FREE_MODELS = frozenset(
    {
        "Sony Xperia Z C6603",
        "Google Nexus 5 LG-D821",
        "Samsung Galaxy S5 SM-G900F",
        "LG G4 H815",
        "Motorola Moto G XT1032",
    }
)
# (softwareVersion id, releaseVersion, apiLevel); 4.1.2 is id 20 as in the doc's example.
ANDROID_VERSIONS = (
    (18, "4.0.4", 15), (20, "4.1.2", 16), (21, "4.2.2", 17), (22, "4.4.2", 19), (23, "5.1.1", 22),
    (24, "6.0.1", 23), (25, "7.1.2", 25), (26, "8.1.0", 27), (27, "9", 28), (28, "10", 29), (29, "11", 30),
    (30, "12", 31),
)  # fmt: skip
IOS_VERSIONS = ((40, "12.5.7", 12), (41, "13.7", 13), (42, "14.8", 14), (43, "15.7", 15), (44, "16.6", 16))
# The doc's example device, field for field.
DEVICE_304 = {
    "softwareVersion": {"id": 20, "releaseVersion": "4.1.2", "apiLevel": 16},
    "creditsPrice": 0,
    "imageTop": 40,
    "imageLeft": 32,
    "imageWidth": 185,
    "imageHeight": 340,
}
IMAGE_BASE = "https://cloud.testdroid.com/resources/images/devices"

# (id, displayName, osType, which devices) of the public groups; ids stay below 100.
PUBLIC_GROUPS: tuple[tuple[int, str, str, Callable[[dict[str, Any]], bool]], ...] = (
    (FREE_DEVICES_GROUP_ID, "Free devices", "ANDROID", lambda d: d["displayName"] in FREE_MODELS),
    (2, "Android devices", "ANDROID", lambda d: d["osType"] == "ANDROID"),
    (3, "iOS devices", "IOS", lambda d: d["osType"] == "IOS"),
    (4, "Sony devices", "ANDROID", lambda d: d["displayName"].startswith("Sony")),
)

# First id minus one of each object kind: the doc's example ids come out first.
ID_STARTS = {
    "project": 31945181,
    "config": 31424,
    "parameter": 0,
    "file": 27169,
    "sharing": 172,
    "user": 278814,
    "run": 31945209,
    "deviceRun": 31949801,
    "tag": 32058489,
    "deviceGroup": 4147,
    "notification": 31981819,
}


def seed_devices(seed: int) -> list[dict[str, Any]]:
    """About 60 devices, ids 300-359; names and ids fixed, prices and versions from ``seed``."""
    rng = seeded_random(seed, "bitbar", "devices")
    unpinned_ids = (i for i in DEVICE_IDS if i not in PINNED_DEVICES)
    models = [(m, "ANDROID") for m in SONY_MODELS + OTHER_ANDROID_MODELS] + [(m, "IOS") for m in APPLE_MODELS]
    catalogue = dict(PINNED_DEVICES) | {next(unpinned_ids): model for model in models}
    devices = [_device(device_id, name, os_type, rng) for device_id, (name, os_type) in sorted(catalogue.items())]
    for device in devices:
        if device["id"] == 304:
            device.update(DEVICE_304)
    return devices


def _device(device_id: int, name: str, os_type: str, rng: random.Random) -> dict[str, Any]:
    prefix = "-".join(name.split()[:-1])  # the doc's "Sony-Xperia-Z": the name without its model code
    version_id, release, api_level = rng.choice(IOS_VERSIONS if os_type == "IOS" else ANDROID_VERSIONS)
    return {
        "id": device_id,
        "displayName": name,
        "softwareVersion": {"id": version_id, "releaseVersion": release, "apiLevel": api_level},
        "creditsPrice": 0 if name in FREE_MODELS else rng.choice((1, 2, 3, 5)),
        "imagePrefix": prefix,
        "imageTop": rng.randint(30, 60),
        "imageLeft": rng.randint(15, 35),
        "imageWidth": rng.randint(170, 200),
        "imageHeight": rng.randint(320, 360),
        "frameExtraWidth": None,
        "osType": os_type,
        **{f"frame{h}Url": f"{IMAGE_BASE}/{prefix}-h{h}.png" for h in (80, 100, 160, 400)},
    }


def initial_data(seed: int, username: str) -> dict[str, Any]:
    devices = seed_devices(seed)
    groups = {
        str(group_id): {
            "id": group_id,
            "name": "public-" + slug(display_name, "-"),
            "displayName": display_name,
            "userId": None,
            "osType": os_type,
            "public": True,
            "deviceIds": [d["id"] for d in devices if member(d)],
        }
        for group_id, display_name, os_type, member in PUBLIC_GROUPS
    }
    return {
        "user": {"id": USER_ID, "email": username, "displayName": USER_DISPLAY_NAME},
        "users": {username: USER_ID},
        "devices": {str(d["id"]): d for d in devices},
        "deviceGroups": groups,
        "projects": {},
        "configs": {},
        "parameters": {},
        "files": {},
        "sharings": {},
        "notifications": {},
        "runs": {},
        "deviceRuns": {},
        "tags": {},
        "accessTokens": {},
        "refreshTokens": {},
    }
