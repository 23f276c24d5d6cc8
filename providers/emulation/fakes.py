"""Made-up content an emulator serves: small valid files and seeded outcomes.

Everything is a function of its inputs (a seed, an object id), so a test can
predict what it gets and a second run gets the same.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zipfile
import zlib
from collections.abc import Iterable


def seeded_random(*parts: object) -> random.Random:
    """A generator fixed by ``parts`` (seed, cloud, object id): same inputs, same draws."""
    return random.Random("|".join(str(part) for part in parts))


def failing_positions(count: int, share: float, rng: random.Random) -> set[int]:
    """Which of ``count`` items fail: ``share`` of them, rounded half up, chosen by ``rng``."""
    failing = min(count, max(0, math.floor(share * count + 0.5)))
    return set(rng.sample(range(count), failing))


# How often an attempt of a flaky test fails (EmulatorOptions.flaky_rate says which tests are flaky).
FLAKY_ATTEMPT_FAILURE = 0.3


def mark_flaky(marks: dict[str, bool], test_ids: Iterable[str], share: float, seed: int) -> None:
    """Decide, once per test id, whether it is flaky: ``share`` of the ids not yet in ``marks``
    (rounded half up, so 10 of 200 at 0.05), chosen by ``seed``. A test keeps its mark on every
    later attempt, which is what makes a re-run of it meaningful."""
    new = list(dict.fromkeys(i for i in test_ids if i not in marks))
    chosen = failing_positions(len(new), share, seeded_random(seed, "flaky", *new))
    marks.update({test_id: index in chosen for index, test_id in enumerate(new)})


def flaky_attempt_fails(seed: int, *attempt: object) -> bool:
    """Whether this attempt of a flaky test fails: a draw fixed by the seed and the attempt's identity."""
    return seeded_random(seed, "flaky attempt", *attempt).random() < FLAKY_ATTEMPT_FAILURE


def tiny_png(seed: int) -> bytes:
    """A valid 1x1 PNG whose colour follows ``seed`` (icons, screenshots)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rgb = bytes(((seed * 67) % 256, (seed * 131) % 256, (seed * 197) % 256))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" + rgb))
        + chunk(b"IEND", b"")
    )


def tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, with a correct xref table."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "".join(f"({escape(line)}) '\n" for line in lines[:60])
    content = f"BT /F1 9 Tf 40 800 Td 12 TL\n{text}ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return pdf + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A ZIP archive in memory holding ``(name, payload)`` members (for small generated files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    return buffer.getvalue()
