"""Tiny but valid app files for tests: APKs (text or compiled manifest) and IPAs.

The emulators inspect uploads as the clouds do (manifest, launcher activity,
provisioning profile), so tests build real archives instead of random bytes.
"""

from __future__ import annotations

import io
import plistlib
import struct
import zipfile


def _entry(name: str) -> zipfile.ZipInfo:
    """A fixed timestamp, so the same content always makes the same bytes (and hash)."""
    return zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))


LAUNCHER = "android.intent.category.LAUNCHER"


def text_manifest(package: str = "com.example.demo", version: str = "1.0", launcher: bool = True) -> bytes:
    category = f'<category android:name="{LAUNCHER}"/>' if launcher else ""
    return (
        f'<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="{package}" '
        f'android:versionName="{version}"><application><activity android:name=".Main"><intent-filter>'
        f'<action android:name="android.intent.action.MAIN"/>{category}</intent-filter></activity>'
        f"</application></manifest>"
    ).encode()


def binary_manifest(package: str, version: str, launcher: bool = True) -> bytes:
    """A minimal compiled (AXML) manifest: UTF-16 string pool plus start-element chunks."""
    elements = [
        ("manifest", {"package": package, "versionName": version}),
        ("application", {}),
        ("activity", {"name": ".Main"}),
    ]
    if launcher:
        elements.append(("category", {"name": LAUNCHER}))
    strings: list[str] = []

    def index(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    chunks = b""
    for tag, attrs in elements:
        packed = b"".join(
            struct.pack("<IIIHBBI", 0xFFFFFFFF, index(k), index(v), 8, 0, 0x03, index(v)) for k, v in attrs.items()
        )
        body = struct.pack("<IIHHHHHH", 0xFFFFFFFF, index(tag), 20, 20, len(attrs), 0, 0, 0) + packed
        chunks += struct.pack("<HHIII", 0x0102, 16, 16 + len(body), 1, 0xFFFFFFFF) + body
    data = b"".join(struct.pack("<H", len(s)) + s.encode("utf-16-le") + b"\0\0" for s in strings)
    data += b"\0" * (-len(data) % 4)
    header_size = 28
    pool = struct.pack(
        "<HHIIIIII",
        0x0001,
        header_size,
        header_size + 4 * len(strings) + len(data),
        len(strings),
        0,
        0,
        header_size + 4 * len(strings),
        0,
    )
    offsets, at = [], 0
    for s in strings:
        offsets.append(at)
        at += 2 + 2 * len(s) + 2
    pool += struct.pack(f"<{len(strings)}I", *offsets) + data
    return struct.pack("<HHI", 0x0003, 8, 8 + len(pool) + len(chunks)) + pool + chunks


def build_apk(manifest: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("AndroidManifest.xml"), text_manifest() if manifest is None else manifest)
        archive.writestr(_entry("classes.dex"), b"dex\n035\0")
    return buffer.getvalue()


def build_ipa(plist: bytes | None = None, development: bool = True) -> bytes:
    info = plistlib.dumps({"CFBundleIdentifier": "com.example.demo", "CFBundleShortVersionString": "2.1"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("Payload/Demo.app/Info.plist"), info if plist is None else plist)
        if development:
            archive.writestr(
                _entry("Payload/Demo.app/embedded.mobileprovision"),
                b"<plist><dict><key>get-task-allow</key><true/></dict></plist>",
            )
    return buffer.getvalue()
