"""Run New Testset's ``data`` part: presence first (4000), then shapes and bounds (4052 / 5001).

What must be present, which spelling of the time limit is read, whether
unlisted keys and broken bounds are refused: each is the variant's reading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from labform.providers.apptest.emulator.variants import Variants
from labform.providers.apptest.emulator.wire import check, result_code

SUPPORTED_EXTENSIONS = ("ipa", "zip", "app", "apk", "xapk", "apks")
TIME_LIMIT_RANGE = (5, 30)
MAX_LENGTHS = {"testset_name": 100, "callback": 250, "login_id": 150, "login_pw": 150}
# The keys of the table (lines 39-45), the time limit in both spellings (table line 41, example line 56).
TIME_LIMIT_KEYS = {
    "either": ("time_limit", "time_limmit"),
    "time_limit": ("time_limit",),
    "time_limmit": ("time_limmit",),
}
LISTED = ("pid", "testset_name", "time_limit", "time_limmit", "use_vo", "callback", "credentials")


@dataclass(frozen=True)
class NewTestset:
    pid: str
    testset_name: str
    time_limit: int | None
    use_vo: bool
    callback: str


class DataReader:
    """Reads the ``data`` part as one variant of the doc does."""

    def __init__(self, variants: Variants):
        self.variants = variants
        self.time_keys = TIME_LIMIT_KEYS[variants.time_limit_key]

    def _text(self, value: Any, key: str) -> str:
        return check.text(key, value, None if self.variants.bounds == "unchecked" else MAX_LENGTHS[key])

    def _time_limit(self, data: dict[str, Any]) -> int | None:
        value = next((data[key] for key in self.time_keys if key in data), None)
        if value in (None, ""):
            return None  # "if empty, the project's time limit applies" (line 41)
        low, high = (1, None) if self.variants.bounds == "unchecked" else TIME_LIMIT_RANGE
        return check.integer("time_limit", value, low, high)

    def _require_table(self, data: dict[str, Any], credentials: Any) -> None:
        """Every key the table marks Required must be sent; a blank value stays allowed (the time limit's is read as unset)."""
        for key in ("use_vo", "callback", "credentials"):
            check.present(data, key)
        if not any(key in data for key in self.time_keys):
            raise result_code(4000, " or ".join(self.time_keys))
        for key in ("login_id", "login_pw"):
            check.present(credentials if isinstance(credentials, dict) else {}, key)

    def parse(self, raw: str | bytes) -> NewTestset:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise result_code(5001, f"data is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise result_code(5001, "data must be a JSON object")
        for key in ("pid", "testset_name"):
            check.required(data, key)
        credentials = data.get("credentials") or {}
        if self.variants.required == "table":
            self._require_table(data, data.get("credentials"))
        unlisted = sorted(set(data) - set(LISTED))
        if unlisted and self.variants.unknown_keys == "refused":
            raise result_code(5001, f"unknown parameters: {', '.join(unlisted)}")
        if not isinstance(credentials, dict):
            raise check.invalid("credentials", credentials, "an object with login_id and login_pw")
        for key in ("login_id", "login_pw"):
            if key in credentials:
                self._text(credentials[key], key)
        return NewTestset(
            pid=_pid(data["pid"]),
            testset_name=self._text(data["testset_name"], "testset_name"),
            time_limit=self._time_limit(data),
            use_vo=check.boolean("use_vo", data.get("use_vo", False)),
            callback=self._text(data.get("callback") or "", "callback"),
        )


def _pid(value: Any) -> str:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise result_code(4052, value)
    return str(int(value))
