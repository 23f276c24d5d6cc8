"""``python -m labform.engine`` is the ``labform`` command."""

from labform.engine.cli import run

run()
