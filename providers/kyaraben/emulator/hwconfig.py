"""A VM's hwconfig: the documented keys, checked as POST /android's 400 describes
("malformed request, response contains the expected JSON schema"), and shown back."""

from __future__ import annotations

from typing import Any

from labform.providers.emulation import Rejection, Validators
from labform.providers.kyaraben.emulator.variants import Variants
from labform.providers.kyaraben.emulator.world import HWCONFIG_DEFAULTS

SWITCHES = tuple(key for key in HWCONFIG_DEFAULTS if key.startswith("enable_"))
SIZES = ("width", "height", "dpi")
# The schema a 400 answer carries.
SCHEMA = {
    "type": "object",
    "required": ["project_id", "image"],
    "properties": {
        "project_id": {"type": "string"},
        "image": {"type": "string"},
        "avm_name": {"type": "string"},
        "hwconfig": {
            "type": "object",
            "properties": {
                **{key: {"type": "integer", "minimum": 1} for key in SIZES},
                **{key: {"type": "integer", "enum": [0, 1]} for key in SWITCHES},
            },
        },
    },
}


def malformed(message: str) -> Rejection:
    return Rejection(400, {"error": f"malformed request: {message}", "schema": SCHEMA}, message)


schema_check = Validators(lambda problem: malformed(str(problem)))


def read_hwconfig(value: Any, variants: Variants, name: str = "hwconfig") -> dict[str, int]:
    """The documented keys of ``value`` (others ignored or refused, as the variant reads the doc)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise malformed(f"{name} must be an object")
    unknown = sorted(set(value) - set(HWCONFIG_DEFAULTS))
    if unknown and variants.unknown_hwconfig_keys == "rejected":
        raise malformed(f"{name} has keys the schema does not allow: {', '.join(unknown)}")
    config = {}
    for key in sorted(set(value) & set(HWCONFIG_DEFAULTS)):
        if key in SWITCHES:
            config[key] = schema_check.integer(f"{name}.{key}", value[key], 0, 1)
        else:
            config[key] = schema_check.integer(f"{name}.{key}", value[key], 1)
    return config


def hwconfig_shown(given: dict[str, int], variants: Variants) -> dict[str, int]:
    """What GET shows: every key, those not given at their default (or, as a variant, only those given)."""
    return {**HWCONFIG_DEFAULTS, **given} if variants.hwconfig == "filled" else dict(given)
