"""Request-parameter checks, one set for every cloud, each refusing in that cloud's envelope.

A cloud binds the checks to its error factory once; the factory gets a
``Problem`` and returns the ``Rejection`` to raise, so it chooses the status,
the code and the words (``str(problem)`` is a plain default)::

    check = Validators(lambda problem: api_error(400, str(problem)))
    name = check.required(values, "name")
    kind = check.one_of("type", check.required(values, "type"), PROJECT_TYPES)

Values from a query string or a form are text: ``parse_int`` / ``parse_bool``
read them. Values from a JSON body are typed: ``integer`` / ``boolean`` check them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from labform.providers.emulation.rejections import Rejection


@dataclass(frozen=True)
class Problem:
    """One bad request parameter: its name, what was sent and what would have been accepted."""

    name: str
    value: Any = None
    expected: str = ""
    missing: bool = False

    def __str__(self) -> str:
        return f"missing required parameter: {self.name}" if self.missing else f"{self.name} must be {self.expected}"


class Validators:
    def __init__(self, reject: Callable[[Problem], Rejection]):
        self.reject = reject

    def invalid(self, name: str, value: Any, expected: str) -> Rejection:
        """The rejection for a cloud-specific rule, worded like the checks here."""
        return self.reject(Problem(name, value, expected))

    def required(self, values: Mapping[str, Any], name: str) -> Any:
        """The value of ``name``, stripped if text; absent, null and blank are missing."""
        value = values.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            raise self.reject(Problem(name, missing=True))
        return value

    def present(self, values: Mapping[str, Any], name: str) -> Any:
        """The value of ``name``, which must be sent but may be blank."""
        if name not in values:
            raise self.reject(Problem(name, missing=True))
        return values[name]

    def one_of(self, name: str, value: Any, allowed: tuple[Any, ...]) -> Any:
        if value not in allowed:
            raise self.invalid(name, value, "one of " + ", ".join(map(str, allowed)))
        return value

    def integer(self, name: str, value: Any, minimum: int | None = 0, maximum: int | None = None) -> int:
        """A whole JSON number (booleans are not numbers) within the bounds; ``None`` leaves one open."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.invalid(name, value, "an integer")
        too_small, too_big = minimum is not None and value < minimum, maximum is not None and value > maximum
        if too_small or too_big:
            bounds = f"from {minimum} to {maximum}" if None not in (minimum, maximum) else ""
            raise self.invalid(name, value, bounds or (f"at least {minimum}" if too_small else f"at most {maximum}"))
        return value

    def parse_int(self, name: str, text: str, minimum: int | None = 0) -> int:
        try:
            number = int(text)
        except ValueError:
            raise self.invalid(name, text, "an integer") from None
        return self.integer(name, number, minimum)

    def boolean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.invalid(name, value, "true or false")
        return value

    def parse_bool(self, name: str, text: str) -> bool:
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise self.invalid(name, text, "true or false")
        return lowered == "true"

    def text(self, name: str, value: Any, max_length: int | None = None) -> str:
        if not isinstance(value, str):
            raise self.invalid(name, value, "a string")
        if max_length is not None and len(value) > max_length:
            raise self.invalid(name, value, f"at most {max_length} characters")
        return value

    def matches(self, name: str, value: str, pattern: str, expected: str) -> str:
        """``value`` if it matches ``pattern`` in full; ``expected`` says what that looks like."""
        if not re.fullmatch(pattern, value):
            raise self.invalid(name, value, expected)
        return value
