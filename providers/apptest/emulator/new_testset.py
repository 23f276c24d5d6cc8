"""Run New Testset's ``data`` part: presence first (4000), then shapes and bounds (4052 / 5001)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from providers.apptest.emulator.wire import check, result_code


SUPPORTED_EXTENSIONS = ("ipa", "zip", "app", "apk", "xapk", "apks")
TIME_LIMIT_RANGE = (5, 30)
MAX_LENGTHS = {"testset_name": 100, "callback": 250, "login_id": 150, "login_pw": 150}


@dataclass(frozen=True)
class NewTestset:
    pid: str
    testset_name: str
    time_limit: int | None
    use_vo: bool
    callback: str


def _text(value: Any, key: str) -> str:
    return check.text(key, value, MAX_LENGTHS[key])


def _time_limit(data: dict[str, Any]) -> int | None:
    value = data.get("time_limit", data.get("time_limmit"))
    if value in (None, ""):
        return None
    return check.integer("time_limit", value, *TIME_LIMIT_RANGE)


def _pid(value: Any) -> str:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise result_code(4052, value)
    return str(int(value))


def parse_data(raw: str | bytes) -> NewTestset:
    """The ``data`` part: presence first (4000), then shapes and bounds (4052 / 5001)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise result_code(5001, f"data is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise result_code(5001, "data must be a JSON object")
    for key in ("pid", "testset_name"):
        check.required(data, key)
    credentials = data.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise check.invalid("credentials", credentials, "an object with login_id and login_pw")
    for key in ("login_id", "login_pw"):
        if key in credentials:
            _text(credentials[key], key)
    return NewTestset(
        pid=_pid(data["pid"]),
        testset_name=_text(data["testset_name"], "testset_name"),
        time_limit=_time_limit(data),
        use_vo=check.boolean("use_vo", data.get("use_vo", False)),
        callback=_text(data.get("callback") or "", "callback"),
    )
