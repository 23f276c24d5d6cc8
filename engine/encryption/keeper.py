"""A high-water mark kept through a program, away from the state it guards (``state.high_water.command``).

A mark beside the state is restored together with it when a whole folder comes back from a
backup; a mark kept elsewhere (a Vault entry, a versioned object store) is not, so that state is
refused too. The program is the user's: ``PROGRAM get NAME`` prints the mark as it was given
(nothing when none is kept), ``PROGRAM put NAME`` stores the mark read on its standard input,
``PROGRAM delete NAME`` forgets it. NAME is the state's (its path, or its PostgreSQL workspace),
so one program serves several states. The mark is sealed and authenticated like the state: the
program stores bytes it cannot forge; what it must not do is lose or roll back what it stores.
"""

from __future__ import annotations

import json
from typing import Any

from labform.engine import external
from labform.engine.encryption.errors import EncryptionError


class MarkKeeper:
    def __init__(self, command: list[str]):
        self.command = command

    def _run(self, verb: str, name: str, stdin: str | None = None) -> str:
        try:
            return external.run([*self.command, verb, name], stdin=stdin)
        except external.ExternalError as exc:
            # The mark is read before anything is written, and stored after the state it follows.
            after = "nothing was written" if verb == "get" else "the state was written, its mark was not kept"
            raise EncryptionError(
                f"the high-water mark of {name} ({verb}, state.high_water.command): {exc}; {after}"
            ) from None

    def load(self, name: str) -> Any:
        """The kept mark document (None: none kept yet)."""
        text = self._run("get", name).strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise EncryptionError(
                f"the high-water mark of {name} is tampered: state.high_water.command printed no mark"
            ) from None

    def store(self, name: str, document: dict[str, Any]) -> None:
        self._run("put", name, json.dumps(document, sort_keys=True))

    def drop(self, name: str) -> None:
        self._run("delete", name)
