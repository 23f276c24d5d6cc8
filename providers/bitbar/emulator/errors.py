"""How Bitbar refuses: the doc's ``error`` object ``{statusCode, message}``, and the
parameter checks bound to it (400 with "Parameter 'x' is required" / "Invalid x 'v': expected ...")."""

from __future__ import annotations

from typing import Any

from labform.providers.emulation import Problem, Rejection, Validators


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "message": message}


def api_error(status: int, message: str) -> Rejection:
    """The doc's ``error`` object, raised anywhere below a handler."""
    return Rejection(status, error_body(status, message), message)


def _bad_parameter(problem: Problem) -> Rejection:
    if problem.missing:
        return api_error(400, f"Parameter '{problem.name}' is required")
    return api_error(400, f"Invalid {problem.name} '{problem.value}': expected {problem.expected}")


check = Validators(_bad_parameter)
