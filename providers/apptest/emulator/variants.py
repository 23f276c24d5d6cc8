"""The readings of the apptest.ai doc where it is silent or contradicts itself, one field each (how doc variants work: providers/emulation/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class Variants:
    # Run New Testset's data: pid and testset_name must be sent (the doc's example omits callback and
    # says an empty time limit falls back), or every key the table marks Required (4000 otherwise).
    required: Literal["pid_and_name", "table"] = "pid_and_name"
    # The time limit's key: either spelling (time_limit, the example's, first), or only one of them.
    time_limit_key: Literal["either", "time_limit", "time_limmit"] = "either"
    # Keys of data the table does not list: ignored, or refused (5001).
    unknown_keys: Literal["ignored", "refused"] = "ignored"
    # A broken bound (name 100, callback 250, login 150 characters, time limit 5-30): 5001, or accepted.
    bounds: Literal["5001", "unchecked"] = "5001"
    # An empty app_file: 6001 (App file upload fail), or 4032 (Invalid app file).
    empty_app: Literal[6001, 4032] = 6001
    # The status of a testset the account lacks: 4053 (the Run New Testset table and the Appendix agree),
    # or 5002 (the status table's "global exception", its only code besides 8000).
    unknown_status: Literal[4053, 5002] = 4053
    # result_msg of a success: "", but 0 on the result endpoint as its example writes it; or "" everywhere.
    result_msg: Literal["zero_on_result", "empty"] = "zero_on_result"
    # Answers hold the doc's keys only, or keys more.
    extra_keys: bool = False
    # Bad credentials: HTTP 401 with result_code 401 in the envelope, or HTTP 200 with it.
    auth_status: Literal[401, 200] = 401


DEFAULT = Variants()
VARIANTS: dict[str, Variants] = {
    "default": DEFAULT,
    "strict-required": replace(DEFAULT, required="table"),
    "time-limit-only": replace(DEFAULT, time_limit_key="time_limit"),
    "time-limmit-only": replace(DEFAULT, time_limit_key="time_limmit"),
    "unknown-keys-refused": replace(DEFAULT, unknown_keys="refused"),
    "bounds-unchecked": replace(DEFAULT, bounds="unchecked"),
    "empty-app-4032": replace(DEFAULT, empty_app=4032),
    "unknown-status-5002": replace(DEFAULT, unknown_status=5002),
    "result-msg-empty": replace(DEFAULT, result_msg="empty"),
    "extra-keys": replace(DEFAULT, extra_keys=True),
    "auth-in-envelope": replace(DEFAULT, auth_status=200),
}
