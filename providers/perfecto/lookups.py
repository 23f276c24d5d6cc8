"""Read-only Perfecto lookups: the Execution Report for some filters, and one test's commands."""

from __future__ import annotations

from labform.providers.base import Arguments, DataSource, arg
from labform.providers.mapping import FieldMap
from labform.providers.perfecto.client import client_of as _client
from labform.providers.perfecto.reports import ExecutionFilters, execution_attrs, read_report, status_counts


class Executions(DataSource):
    """The executions matching the filters, with their counts."""

    type_name = "perfecto_executions"
    Args = ExecutionFilters
    computed = ("executions", "ids", "total", "counts", "processing_status", "truncated")

    def read(self, ctx, args):
        report = read_report(ctx, args)
        executions = [execution_attrs(e) for e in report.executions]
        return {
            "executions": executions,
            "ids": [e["id"] for e in executions],
            "total": len(executions),
            "counts": status_counts(executions),
            "processing_status": report.processing_status,
            "truncated": report.truncated,
        }


class CommandsArgs(Arguments):
    test_id: str = arg(min_length=1, description="The test's id, e.g. ${data.perfecto_executions.NAME.ids.0}.")


STEP = FieldMap(name="name", start_time="startTime", end_time="endTime")
COMMAND = FieldMap(
    name="name",
    status="status",
    message="message",
    start_time="startTime",
    end_time="endTime",
    duration_ms="uxDuration",
    screenshots="screenshots",
)


class Commands(DataSource):
    """One test's steps and commands."""

    type_name = "perfecto_commands"
    Args = CommandsArgs
    computed = ("steps", "commands", "failed")

    def read(self, ctx, args):
        steps = [
            {**STEP.attrs(step), "commands": [COMMAND.attrs(c) for c in step.get("commands") or []]}
            for step in _client(ctx).commands(args["test_id"])
        ]
        commands = [command for step in steps for command in step["commands"]]
        return {
            "steps": steps,
            "commands": commands,
            "failed": sum(1 for c in commands if c.get("status") == "FAILURE"),
        }
