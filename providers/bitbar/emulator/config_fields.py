"""The projectConfig fields a client may set, each with how it is read and checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labform.providers.bitbar.emulator.errors import check
from labform.providers.bitbar.emulator.vocabulary import LIMITATION_TYPES, MODES, SCHEDULERS


def _text(name: str, value: str) -> str:
    return value


def _nullable(parse: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """An empty value resets a field whose default is null."""
    return lambda name, value: None if value == "" else parse(name, value)


def _enum(allowed: tuple[str, ...]) -> Callable[[str, str], str]:
    return lambda name, value: check.one_of(name, value, allowed)


def _pattern(pattern: str, expected: str) -> Callable[[str, str], str]:
    return lambda name, value: check.matches(name, value, pattern, expected)


# projectConfig fields a client may set, with how each is read and checked.
CONFIG_FIELDS: dict[str, Callable[[str, str], Any]] = {
    "scheduler": _enum(SCHEDULERS),
    "mode": _enum(MODES),
    "autoScreenshots": check.parse_bool,
    "screenshotDir": _text,
    "limitationType": _nullable(_enum(LIMITATION_TYPES)),
    "limitationValue": _text,
    "withAnnotation": _nullable(_text),
    "withoutAnnotation": _nullable(_text),
    "applicationUsername": _text,
    "applicationPassword": _text,
    "usedDeviceGroupId": check.parse_int,
    "deviceLanguageCode": _pattern(r"[a-z]{2}_[A-Z]{2}", "xx_YY, e.g. en_US"),
    # Empty clears the hook.
    "hookURL": _pattern(r"(?:https?://[^\s/]+[\s\S]*)?", "an http(s) URL"),
    "uiAutomatorTestClasses": _nullable(_text),
    "launchApp": check.parse_bool,
    "instrumentationRunner": _text,
    "checkApp": check.parse_bool,
}
