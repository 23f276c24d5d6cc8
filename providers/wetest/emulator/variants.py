"""The readings of the WeTest doc where it is silent, one field each (how doc variants work: providers/emulation/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class Variants:
    # The HTTP status of a refusal: 200 (only the envelope's ret says so), or 400 / 404 / 409 by its kind.
    refusal_status: Literal["200", "4xx"] = "200"
    # The ret of a refusal for an object that is not there (the doc defines only ret 0).
    not_found_ret: int = 1002
    # One ret for every refusal, whatever its kind (None: 1001 bad parameter, not_found_ret, 1003 wrong state).
    single_ret: int | None = None
    # Bad credentials: HTTP 401 with the envelope, or HTTP 200 with a non-zero ret like any refusal.
    auth_status: Literal[401, 200] = 401
    # How the "string" times are written (UTC).
    time_format: Literal["datetime", "iso8601", "epoch_seconds", "epoch_millis"] = "datetime"
    # A time not known yet (end_time of a running test): "" or the key left out.
    unknown_time: Literal["empty", "absent"] = "empty"
    # Answers hold the doc's keys only, or also keys a server may add (the whole app on upload ...).
    extra_keys: bool = False
    # Required fields with a stated default (frame_type, max_test_runtime, max_device_runtime): the
    # default when absent, or refused when absent.
    required_defaults: Literal["defaulted", "strict"] = "defaulted"
    # device_number without devices: idle devices first, then busy and offline ones make up the number
    # (at most the cloud's devices), or idle devices only (fewer when fewer are idle).
    device_number: Literal["any", "idle"] = "any"
    # device_number with devices: not used, or it tests only the first device_number of them.
    device_number_with_devices: Literal["ignored", "caps"] = "ignored"
    # Cancelling a test that has ended: ret 0 and nothing changes, or refused (wrong state).
    cancel_ended: Literal["ok", "refused"] = "ok"
    # An app on a cloud of the other platform: tested, each device ending in result 2 (compatibility
    # error), or refused at submission.
    platform_mismatch: Literal["incompatible", "refused"] = "incompatible"
    # test_status.finished: true for every end (finished, canceled, timeout), or only for status 1.
    finished: Literal["any_end", "status_1"] = "any_end"
    # pass_rate / exception_rate: a ratio in [0, 1], or a percentage in [0, 100].
    rates: Literal["ratio", "percent"] = "ratio"
    # errors / images / log URLs of a device: always there (empty unless asked: error=true ...), or only when asked.
    details: Literal["always", "asked"] = "always"
    # scenarios / scenario_labels sent for a test that is not Game Loop: not used, or refused (bad parameter).
    scenarios_outside_game_loop: Literal["ignored", "refused"] = "ignored"
    # resign sent for an app that is not an .ipa: not used, or refused (bad parameter).
    resign_non_ios: Literal["ignored", "refused"] = "ignored"
    # Get App by hash when the same bytes were uploaded twice: the newest upload, or the oldest.
    hash_lookup: Literal["newest", "oldest"] = "newest"


DEFAULT = Variants()
VARIANTS: dict[str, Variants] = {
    "default": DEFAULT,
    "errors-http-status": replace(DEFAULT, refusal_status="4xx"),
    "not-found-ret-404": replace(DEFAULT, not_found_ret=404),
    "one-ret-code": replace(DEFAULT, single_ret=-1),
    "auth-in-envelope": replace(DEFAULT, auth_status=200),
    "time-iso8601": replace(DEFAULT, time_format="iso8601"),
    "time-epoch-seconds": replace(DEFAULT, time_format="epoch_seconds"),
    "time-epoch-millis": replace(DEFAULT, time_format="epoch_millis"),
    "unknown-time-absent": replace(DEFAULT, unknown_time="absent"),
    "extra-keys": replace(DEFAULT, extra_keys=True),
    "strict-required": replace(DEFAULT, required_defaults="strict"),
    "idle-devices-only": replace(DEFAULT, device_number="idle"),
    "device-number-caps-devices": replace(DEFAULT, device_number_with_devices="caps"),
    "cancel-ended-refused": replace(DEFAULT, cancel_ended="refused"),
    "platform-mismatch-refused": replace(DEFAULT, platform_mismatch="refused"),
    "finished-only-status-1": replace(DEFAULT, finished="status_1"),
    "rates-percent": replace(DEFAULT, rates="percent"),
    "details-only-when-asked": replace(DEFAULT, details="asked"),
    "scenarios-game-loop-only": replace(DEFAULT, scenarios_outside_game_loop="refused"),
    "resign-ios-only": replace(DEFAULT, resign_non_ios="refused"),
    "hash-oldest-upload": replace(DEFAULT, hash_lookup="oldest"),
}
