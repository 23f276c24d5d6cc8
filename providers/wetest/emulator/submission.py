"""Submit Automation Test's JSON body, checked against the documented rules that need no stored object.

Only what the doc states is refused: a missing Required field (those with a
stated default only on the strict variant), a value outside the doc's choices,
appium without a script, the Game Loop-only fields on appium. Runtimes are time
out periods, so positive integers; the doc relates them to nothing else (a
device runtime above the test's is simply cut by the test's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from labform.providers.wetest.emulator.variants import Variants
from labform.providers.wetest.emulator.vocabulary import (
    CHOOSE_TYPES,
    DEFAULT_DEVICE_RUNTIME,
    DEFAULT_TEST_RUNTIME,
    FRAME_TYPES,
    Ret,
)
from labform.providers.wetest.emulator.wire import check, rejected


@dataclass(frozen=True)
class Submission:
    project: str
    app_fid: str
    frame_type: str
    script_id: int | None
    cloud_id: int
    device_number: int
    devices: list[int]
    choose_type: str
    max_test_runtime: int
    max_device_runtime: int
    scenarios: list[int]
    resign: bool


def parse_scenarios(text: str) -> list[int]:
    """``"1-3, 5"`` -> ``[1, 2, 3, 5]`` (doc line 257)."""
    loops: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if match is None or int(match.group(1)) < 1:
            raise rejected(Ret.BAD_PARAMETER, f"scenarios: cannot read {part!r}")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise rejected(Ret.BAD_PARAMETER, f"scenarios: range {part!r} runs backwards")
        loops.update(range(first, last + 1))
    return sorted(loops) or [1]


# Required (doc lines 245-249), yet each with a stated default the doc's own sample relies on.
DEFAULTED = ("frame_type", "max_test_runtime", "max_device_runtime")


def parse_submission(body: Any, variants: Variants) -> Submission:
    """Check the documented constraints that need no stored object."""
    if not isinstance(body, dict):
        raise rejected(Ret.BAD_PARAMETER, "request body must be a JSON object")
    if variants.required_defaults == "strict":
        for key in DEFAULTED:
            check.required(body, key)
    project = str(check.required(body, "project"))
    app_fid = str(check.required(body, "app_hash_id"))
    cloud_id = check.required(body, "cloud_id")
    device_number = check.required(body, "device_number")
    frame_type = check.one_of("frame_type", body.get("frame_type") or "appium", tuple(FRAME_TYPES))
    script_id = body.get("script_id")
    if script_id is not None:
        check.integer("script_id", script_id)
    elif frame_type == "appium":
        raise rejected(Ret.BAD_PARAMETER, "script_id is required when frame_type is appium")
    max_test_runtime = check.integer("max_test_runtime", body.get("max_test_runtime", DEFAULT_TEST_RUNTIME), minimum=1)
    max_device_runtime = check.integer(
        "max_device_runtime", body.get("max_device_runtime", DEFAULT_DEVICE_RUNTIME), minimum=1
    )
    devices = body.get("devices") or []
    if not isinstance(devices, list) or any(isinstance(d, bool) or not isinstance(d, int) for d in devices):
        raise check.invalid("devices", devices, "an array of integers")
    game_loop = frame_type == "game_loop"
    for key in ("scenarios", "scenario_labels"):
        if body.get(key) not in (None, "") and not game_loop and variants.scenarios_outside_game_loop == "refused":
            raise rejected(Ret.BAD_PARAMETER, f"{key} is for Game Loop tests only")
    # "(Game Loop only)" (doc lines 257-258): outside Game Loop the loops are not read at all.
    scenarios = (body.get("scenarios") or "") if game_loop else ""
    if not isinstance(scenarios, str):
        raise check.invalid("scenarios", scenarios, 'a string such as "1-3, 5"')
    return Submission(
        project=project,
        app_fid=app_fid,
        frame_type=frame_type,
        script_id=script_id,
        cloud_id=check.integer("cloud_id", cloud_id),
        device_number=check.integer("device_number", device_number),
        devices=list(dict.fromkeys(devices)),
        choose_type=check.one_of("device_choose_type", body.get("device_choose_type") or "deviceids", CHOOSE_TYPES),
        max_test_runtime=max_test_runtime,
        max_device_runtime=max_device_runtime,
        scenarios=parse_scenarios(scenarios),
        resign=check.boolean("resign", body.get("resign", False)),
    )
