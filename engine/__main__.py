"""``python -m engine`` is the ``labform`` command."""

from engine.cli import main

main()
