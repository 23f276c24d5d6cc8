"""The doc's codes (``ret``, test status, device ``result_code``) and fixed values."""

from __future__ import annotations

from enum import IntEnum

BASE = "/cloudtest/v1"
FILES_HOST = "https://wetest.emulator.invalid"
APP_EXTENSIONS = ("aab", "apk", "ipa")
FRAME_TYPES = {"appium": 1, "game_loop": 2}
CHOOSE_TYPES = ("deviceids", "modelids")
DEFAULT_TEST_RUNTIME = 1800
DEFAULT_DEVICE_RUNTIME = 600


class Ret(IntEnum):
    """0 is the doc's success; the others are the kinds of refusal, with the default server's rets."""

    OK = 0
    BAD_PARAMETER = 1001
    NOT_FOUND = 1002
    WRONG_STATE = 1003
    AUTH_FAILED = 1004


class StatusCode(IntEnum):
    TESTING = 0
    FINISHED = 1
    CANCELED = 2
    TIMEOUT = 3


class DeviceResult(IntEnum):
    RUNNING = 0
    PASSED = 1
    COMPATIBILITY_ERROR = 2
    UNTESTED = 3
    TIMEOUT = 4
    SYSTEM_CANCELED = 5
    USER_CANCELED = 6


RESULT_TEXT = {
    DeviceResult.RUNNING: "running",
    DeviceResult.PASSED: "passed",
    DeviceResult.COMPATIBILITY_ERROR: "has compatibility error",
    DeviceResult.UNTESTED: "untest (device exception)",
    DeviceResult.TIMEOUT: "timeout",
    DeviceResult.SYSTEM_CANCELED: "system canceled",
    DeviceResult.USER_CANCELED: "user canceled",
}
STATUS_TEXT = {
    StatusCode.TESTING: "testing",
    StatusCode.FINISHED: "finished",
    StatusCode.CANCELED: "canceled",
    StatusCode.TIMEOUT: "timeout",
}
DEVICE_STATES = {"idle": 0, "testing": 1, "offline": 2}
