"""An emulator's objects as plain dicts, optionally kept in a JSON file.

The sandbox passes a file so that a second ``labform apply --sandbox`` sees
what the first created; tests leave it in memory. Uploaded bytes never go in
here (see ``uploads``): records keep the path.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class JsonStore:
    def __init__(self, path: Path | None, initial: Callable[[], dict[str, Any]]):
        self.path = path
        # Re-entrant: a handler holding it may call helpers that take it again.
        self.lock = threading.RLock()
        if path is not None and path.exists():
            self.data = json.loads(path.read_text())
        else:
            self.data = initial()

    def next_id(self, counter: str = "id", start: int = 1000) -> int:
        with self.lock:
            counters = self.data.setdefault("_counters", {})
            counters[counter] = counters.get(counter, start) + 1
            return counters[counter]

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
            os.replace(tmp, self.path)


def page_window(items: list[Any], offset: int, limit: int) -> list[Any]:
    """The items of one page of a list endpoint."""
    return items[offset : offset + limit]
