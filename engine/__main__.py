"""``python -m engine`` is the ``labform`` command."""

from engine.cli import run

run()
