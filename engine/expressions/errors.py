"""The one error an expression raises, wherever it fails (parsing, a function, evaluation)."""

from __future__ import annotations

from labform.engine.errors import ConfigError


class ExpressionError(ConfigError, ValueError):
    """A ``${...}`` that cannot be parsed or evaluated.

    ``column`` is where in its string the problem is (1-based: the failing token
    when parsing, the expression's first character when evaluating); ``reason`` the plain words;
    ``path`` the keys from the checked value down to the string. The caller adds
    file:line from the loader's positions. A ``ValueError`` too, as a malformed
    reference always was."""

    def __init__(self, verdict: str, text: str, reason: str, column: int = 1, path: tuple[str | int, ...] = ()):
        self.verdict, self.text, self.reason, self.column, self.path = verdict, text, reason, column, path
        super().__init__(f"{verdict} '${{{text}}}' at column {column}: {reason}")

    def shifted(self, offset: int) -> ExpressionError:
        """The same error with its column counted from ``offset`` characters earlier."""
        return ExpressionError(self.verdict, self.text, self.reason, self.column + offset, self.path)

    def within(self, key: str | int) -> ExpressionError:
        """The same error one level further down: ``key`` holds the value it was found in."""
        return ExpressionError(self.verdict, self.text, self.reason, self.column, (key, *self.path))
