"""`python -m labform` runs the CLI, as the `labform` command does."""

from labform.engine.cli import run

run()
