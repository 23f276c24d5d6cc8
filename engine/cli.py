"""The ``labform`` command: parse flags, call the runner, print, choose the exit code.

Exit codes (engine/exit_codes.py, the one table docs/exit-codes.md is made from):
0 success (or no changes), 1 error (a mistyped flag too: never 2, which CI reads
as "changes"; an apply whose check fails), 2 changes present with
``--detailed-exitcode`` (drift included; a check, failing or not, is no change),
3 ``fmt --check`` found files to format, 130/143 an apply stopped by
SIGINT/SIGTERM. Errors print as one ``Error:`` line, never a traceback (set
LABFORM_DEBUG=1 to see one).

Options are also accepted as Terraform spells them: ``-auto-approve``,
``-var x=1``, ``-parallelism=16``, ``-auto-approve=true`` (``terraform_style``
rewrites them before click parses), ``-no-color`` anywhere on the line,
``-chdir=DIR`` before the command, and ``-input=false``/``-lock=false``, which
change nothing here and say so, except that apply and destroy never ask for
approval with ``-input=false`` (they refuse without ``-auto-approve``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec

import click

from labform.engine import collector, exit_codes
from labform.engine.errors import ConfigErrors, LabformError
from labform.engine.events import Reporter
from labform.engine.flags import (
    PATH_ARG,
    SandboxTuning,
    TerraformStyleGroup,
    approval_input_option,
    compact_warnings_option,
    duration,
    input_option,
    json_option,
    lock_option,
    note_input_ignored,
    parse_address,
    plan_options,
    sandbox_option,
    sandbox_tuning_options,
    workspace_options,
)
from labform.engine.interrupts import Interruption
from labform.engine.options import PlanOptions
from labform.engine.secrets import RedactingFilter
from labform.engine.version import labform_version
from labform.providers.masking import SENSITIVE, redact

if TYPE_CHECKING:  # each command imports what it runs, so --help and validate load only their own
    from labform.engine import ci, runner
    from labform.engine.history import HistoryStore
    from labform.engine.outcomes import ApplyOutcome
    from labform.engine.report.model import RunView
    from labform.engine.state import ResourceState


P = ParamSpec("P")

TARGETING_WARNING = """Warning: Resource targeting is in effect

You are creating a plan with the -target option, which means that the result of this plan may not
represent all of the changes requested by the current configuration.

The -target option is not for routine use, and is provided only for exceptional situations such as
recovering from errors or mistakes, or when labform specifically suggests to use it as part of an
error message.
"""
TARGETED_APPLY_WARNING = """Warning: Applied changes may be incomplete

The plan was created with the -target option in effect, so some changes requested in the
configuration may have been ignored and the output values may not be fully updated. Run the
following command to verify that no other changes are pending:
    labform plan
"""


def _fail(message: str) -> None:
    click.echo(click.style("Error: ", fg="red", bold=True) + redact(message), err=True)
    sys.exit(exit_codes.ERROR)


def _warn(warning: str, compact: bool) -> None:
    """A warning on stderr: whole, or its summary line alone with -compact-warnings."""
    click.echo(warning.splitlines()[0] if compact else warning, err=True)


def _annotate(exc: Exception) -> None:
    """On GitHub Actions, each plan-file error also as an annotation on its line (stderr:
    the runner reads workflow commands there too, and stdout may be carrying JSON)."""
    from labform.engine import ci

    if ci.on_github():
        for line in ci.error_annotations(exc):
            click.echo(redact(line), err=True)


def handle_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Turn every expected failure into 'Error: ...' and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except LabformError as exc:  # the one root: engine and provider errors alike
            _annotate(exc)
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted")
        except BrokenPipeError:  # labform show | head: the reader has all it wanted
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (held until exit, so nothing writes to the closed pipe)
            sys.exit(1)
        except Exception as exc:  # a bug: say so plainly, keep the traceback for debugging
            if os.environ.get("LABFORM_DEBUG"):
                traceback.print_exc()
            _fail(f"internal error ({type(exc).__name__}): {exc}. Set LABFORM_DEBUG=1 for details.")

    return wrapper


def _echo_event(err: bool = False) -> Reporter:
    return lambda event: click.echo(redact(event.message), err=err)


def _workspace(
    path: Path,
    state: str | None,
    variables: dict[str, Any],
    sandbox: SandboxTuning | None = None,
    report: Reporter | None = None,
    lock_timeout: float = 0.0,
) -> runner.Workspace:
    """The workspace of one command; ``sandbox``: None, or --sandbox with the knobs given."""
    from labform.engine import runner
    from labform.engine.encryption import prefetch

    ws = runner.Workspace(
        path=path,
        state=state,
        sandbox=sandbox is not None,
        sandbox_tuning=sandbox or {},
        variables=variables,
        report=report or _echo_event(),
        lock_timeout=lock_timeout,
    )
    prefetch.start(ws.state_location(), ws.path)  # an encrypted state's key, derived while the plan loads
    return ws


def _color() -> bool:
    """Colour only on a terminal, and never with -no-color or NO_COLOR (https://no-color.org)."""
    ctx = click.get_current_context(silent=True)
    return sys.stdout.isatty() and not (ctx is not None and ctx.color is False)


def _print_version(ctx: click.Context, wanted: bool) -> None:
    """``--version``: the version is looked up only when asked (that costs a tenth of --help)."""
    if wanted and not ctx.resilient_parsing:
        click.echo(f"labform v{labform_version()}")
        ctx.exit()


def run() -> None:
    """The ``labform`` command, in a process of its own (``python -m labform.engine`` too)."""
    collector.tune_for_a_short_command()
    main()


def _chdir(ctx: click.Context, param: click.Parameter, folder: Path | None) -> None:
    """Terraform's -chdir: the command runs from FOLDER, so plan paths, state and the files a plan
    names are read from there."""
    if folder is not None and not ctx.resilient_parsing:
        os.chdir(folder)


@click.group(cls=TerraformStyleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--chdir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    expose_value=False,
    is_eager=True,
    callback=_chdir,
    help="Switch to DIR before the command (written before it, as Terraform's -chdir=DIR).",
)
@click.option("--log-level", default=os.environ.get("LABFORM_LOG", "WARNING"), help="Log level (logs go to stderr).")
@click.option("--no-color", is_flag=True, help="No colours in the output (also when NO_COLOR is set).")
@click.option(
    "--version",
    "-v",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _print_version(ctx, value),
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context, log_level: str, no_color: bool) -> None:
    """labform: declarative setup of mobile device-testing clouds."""
    if no_color or os.environ.get("NO_COLOR"):
        ctx.color = False  # inherited by the command's context; click.echo then strips styles
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    logging.basicConfig(
        level=log_level.upper(), handlers=[handler], format="%(levelname)s %(name)s: %(message)s", force=True
    )


@main.command()
@json_option
def version(as_json: bool) -> None:
    """Print labform's version (-json: Terraform's keys, every built-in cloud as a provider selection)."""
    if as_json:
        from labform.engine.provider_address import provider_address
        from labform.providers import registry

        version = labform_version()
        document = {
            "terraform_version": version,
            "labform_version": version,
            "platform": f"{sys.platform}_{platform.machine()}",
            "provider_selections": {provider_address(name): version for name in registry.provider_names()},
            "python": platform.python_version(),
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"labform v{labform_version()}\non {sys.platform}_{platform.machine()}")


@main.command()
@PATH_ARG
@workspace_options
@json_option
@handle_errors
def validate(path: Path, state: str | None, variables: dict[str, Any], as_json: bool) -> None:
    """Check the plan files without calling any cloud."""
    from labform.engine import ci, runner

    ws = _workspace(path, state, variables)
    if not as_json:
        checked = runner.validate(ws)
        click.echo(f"The plan is valid: {len(checked.resources)} resources, {len(checked.data)} data sources.")
        return
    try:
        runner.validate(ws)
        errors: list[Exception] = []
    except ConfigErrors as exc:
        errors = list(exc.errors)
    except LabformError as exc:
        errors = [exc]
    for error in errors:
        _annotate(error)
    document = {
        "format_version": "1.0",
        "valid": not errors,
        "error_count": len(errors),
        "warning_count": 0,
        "diagnostics": [ci.diagnostic(e) for e in errors],
    }
    click.echo(redact(json.dumps(document, indent=2)))
    sys.exit(1 if errors else 0)


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@plan_options()
@lock_option
@input_option
@compact_warnings_option
@click.option("--out", "out", type=click.Path(path_type=Path), help="Save the plan for 'labform apply FILE'.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes (drift included; checks are not changes).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Check the plan against FILE's named CEL rules (rules: {name: expression}); exit 1 naming each that fails.",
)
@handle_errors
def plan(
    path: Path,
    state: str | None,
    variables: dict[str, Any],
    sandbox: SandboxTuning | None,
    options: PlanOptions,
    compact_warnings: bool,
    out: Path | None,
    as_json: bool,
    detailed_exitcode: bool,
    lock_timeout: float,
    policy_file: Path | None,
) -> None:
    """Show what apply would change."""
    from labform.engine import ci, runner
    from labform.engine.reconcile import policy

    rules = policy.load_rules(policy_file) if policy_file else None  # its mistakes before any call
    ws = _workspace(path, state, variables, sandbox, report=_echo_event(err=as_json), lock_timeout=lock_timeout)
    if options.targets:
        _warn(TARGETING_WARNING, compact_warnings)
    result = runner.plan(ws, options, out)
    click.echo(result.json() if as_json else result.text(_color()))
    if out and not as_json:
        click.echo(f"\nSaved the plan to {out}. To apply exactly it: labform apply {out}")
    ci.append_step_summary(redact(ci.plan_markdown(str(path), result.plan, result.drift)))
    if rules is not None:
        policy.enforce(rules, result)
    # Changes alone decide: a check (a gate's verdict) is shown, and fails apply, but changes nothing.
    drifted = result.plan.has_changes or bool(result.drift)
    sys.exit(exit_codes.CHANGES if detailed_exitcode and drifted else exit_codes.OK)


JSON_STREAM_HELP = "Stream Terraform's machine-readable UI, one JSON message per line (needs --auto-approve)."


def _change_log(as_json: bool) -> ci.ChangeLog:
    """An apply's reporter: JSON lines with -json; on a pipe, heartbeats for long silent changes
    (every LABFORM_HEARTBEAT_SECONDS, default 30); on a terminal, lines as they come."""
    from labform.engine import ci

    heartbeat = None if sys.stdout.isatty() else float(os.environ.get("LABFORM_HEARTBEAT_SECONDS", ci.HEARTBEAT))
    return ci.ChangeLog(lambda line: click.echo(redact(line)), as_json=as_json, heartbeat=heartbeat)


def _approver(
    auto_approve: bool, verb: str, log: ci.ChangeLog, input_enabled: bool | None = None
) -> Callable[[runner.PlanResult], bool]:
    """Shows the plan first (so a CI log says what was intended), then: with --auto-approve go on;
    otherwise ask for 'yes', which needs a terminal and no -input=false (which means "do not ask")."""

    def show(result: runner.PlanResult) -> None:
        if log.as_json:
            log.planned(result.plan, result.drift)
        else:
            click.echo(result.text(_color()))

    def go_on(result: runner.PlanResult) -> bool:
        show(result)
        return True

    if auto_approve:
        if input_enabled is not None:
            note_input_ignored()
        return go_on
    if log.as_json:
        raise LabformError(f"{verb} -json needs --auto-approve: a JSON stream cannot ask for approval")
    if not sys.stdin.isatty():
        raise LabformError(f"{verb} needs approval but standard input is not a terminal: run with --auto-approve")
    if input_enabled is False:
        raise LabformError(f"{verb} needs approval, and -input=false says not to ask for it: run with -auto-approve")

    def approve(result: runner.PlanResult) -> bool:
        show(result)
        answer: str = click.prompt(
            f"\nDo you want to {verb}? Only 'yes' will be accepted", default="", show_default=False
        )
        return answer.strip() == "yes"

    return approve


def _incomplete_report(outcome: ApplyOutcome) -> None:
    """After a failed or interrupted apply: what was done, what failed and why, what was skipped
    or never started, and each failing check, so the next step is clear without reading the whole log."""
    done: dict[str, list[str]] = {}
    for changed in outcome.changes:
        if changed.result == "done":
            done.setdefault(changed.change.action.words.past, []).append(changed.address)
    for word, addresses in done.items():
        click.echo(f"  {word + ':':11}{', '.join(addresses)}")
    recovered = outcome.result.recovered if outcome.result else []
    if recovered:
        click.echo(f"  Recovered: {', '.join(str(a) for a in recovered)} (found after an interrupted apply)")
    if outcome.failed:
        click.echo("  Failed:", err=True)
        for changed in outcome.failed:
            click.echo(f"    {changed.address}: {changed.detail}", err=True)
    for changed in outcome.changes:
        if changed.result == "skipped":
            click.echo(f"  Skipped:   {changed.address} (because {changed.detail})")
    not_started = [c.address for c in outcome.changes if c.result == "not started"]
    if not_started:
        click.echo(f"  Not started ({outcome.interrupted}): {', '.join(not_started)}")
    from labform.engine import render

    for check in outcome.failed_checks:  # after the changes were carried out: each fails the apply
        click.echo("\n" + redact(render.check_error(check, _color())), err=True)


def _print_outputs(outputs: dict[str, dict[str, Any]]) -> None:
    click.echo("\nOutputs:\n")
    for name, shown in outputs.items():
        click.echo(f"{name} = {SENSITIVE if shown['sensitive'] else json.dumps(shown['value'], default=str)}")


def _ci_report(where: str, outcome: ApplyOutcome, runs: list[RunView]) -> None:
    """The step summary and, on GitHub, an annotation at the block of every failed change."""
    from labform.engine import ci

    ci.append_step_summary(redact(ci.apply_markdown(where, outcome, runs)))
    if ci.on_github():
        for line in ci.failure_annotations(outcome):
            click.echo(redact(line), err=True)


def _run_views(ws: runner.Workspace, outcome: ApplyOutcome, report_dir: Path | None, as_json: bool) -> list[RunView]:
    """The runs as reports show them (read from state after the apply), and with --report the report
    written (said on stderr under -json, whose stdout is the stream): none read when the apply has no
    run and no report is asked for."""
    from labform.engine import report, runner

    if not outcome.runs and report_dir is None:
        return []
    state = runner.read_state(ws)
    if report_dir is None:
        return report.views(state, Path("."), outcome)
    target = report_dir / report.REPORT
    shown = report.views(state, report_dir, outcome, target.with_suffix(".json"))
    written = report.write(target, f"labform {outcome.verb} {ws.path}", shown)
    click.echo(f"Report: {', '.join(str(path) for path in written)}", err=as_json)
    return shown


def _finish(
    ws: runner.Workspace,
    outcome: ApplyOutcome,
    started: float,
    log: ci.ChangeLog,
    stop: Interruption,
    targeted: bool,
    compact_warnings: bool,
    report_dir: Path | None = None,
) -> None:
    from labform.engine import runner

    if not outcome.approved:
        _fail(f"{outcome.verb} cancelled.")
    runs = _run_views(ws, outcome, report_dir, log.as_json)
    _ci_report(str(ws.path), outcome, runs)
    if log.as_json:
        log.finished(outcome, {view.address: view.cost for view in runs})
    elif outcome.result is None or (not outcome.plan.has_changes and outcome.ok):
        click.echo(runner.PlanResult(outcome.plan, outcome.drift).text(_color()))
    elif not outcome.ok:
        click.echo(f"\n{outcome.headline()}")
        _incomplete_report(outcome)
    elif outcome.plan.refresh_only:
        click.echo(
            f"\n{outcome.verb.capitalize()} complete! State now records what the cloud has; no remote object was changed."
        )
    else:
        click.echo(f"\n{outcome.headline()[:-1]}. ({time.monotonic() - started:.1f}s)")
        if outcome.outputs and outcome.verb != "destroy":  # after a destroy they name what is gone
            _print_outputs(outcome.outputs)
    if targeted and not log.as_json:
        click.echo(err=True)
        _warn(TARGETED_APPLY_WARNING, compact_warnings)
    if outcome.interrupted:
        sys.exit(stop.exit_code)
    if not outcome.ok:
        sys.exit(exit_codes.ERROR)


@main.command()
@click.argument("path_or_plan", required=False, default=".", type=click.Path(path_type=Path))
@workspace_options
@sandbox_option
@plan_options()
@lock_option
@approval_input_option
@compact_warnings_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking (the plan is still printed first).")
@click.option("--json", "as_json", is_flag=True, help=JSON_STREAM_HELP)
@click.option(
    "--report",
    "report_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="After the apply, write the runs' HTML report, its Markdown and figures to DIR (report.html, .md, .json).",
)
@handle_errors
def apply(
    path_or_plan: Path,
    state: str | None,
    variables: dict[str, Any],
    sandbox: SandboxTuning | None,
    options: PlanOptions,
    compact_warnings: bool,
    auto_approve: bool,
    as_json: bool,
    lock_timeout: float,
    report_dir: Path | None,
    input_enabled: bool | None,
) -> None:
    """Make the cloud match the plan (PATH), or apply a saved plan FILE exactly."""
    from labform.engine import planfile

    saved = path_or_plan if planfile.is_saved_plan(path_or_plan) else None
    ws = _workspace(Path(".") if saved else path_or_plan, state, variables, sandbox, lock_timeout=lock_timeout)
    _carry_out(ws, options, saved, auto_approve, as_json, compact_warnings, report_dir, input_enabled)


def _carry_out(
    ws: runner.Workspace,
    options: PlanOptions,
    saved: Path | None,
    auto_approve: bool,
    as_json: bool,
    compact_warnings: bool,
    report_dir: Path | None = None,
    input_enabled: bool | None = None,
) -> None:
    """apply and destroy alike: show the plan, ask unless told not to (-input=false: never ask), apply, report."""
    from labform.engine import runner

    started = time.monotonic()
    ws.report = log = _change_log(as_json)
    verb = "destroy" if options.destroy else "apply"
    if saved and input_enabled is not None:  # a saved plan is applied without asking
        note_input_ignored()
    approve = None if saved else _approver(auto_approve, verb, log, input_enabled)
    if options.targets and not as_json:
        _warn(TARGETING_WARNING, compact_warnings)
    with Interruption() as stop, log:
        outcome = runner.apply(ws, options, saved, approve, stop=stop)
    _finish(ws, outcome, started, log, stop, bool(options.targets), compact_warnings, report_dir)


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@plan_options(changes=False)
@lock_option
@approval_input_option
@compact_warnings_option
@click.option("--auto-approve", is_flag=True, help="Destroy without asking (the plan is still printed first).")
@click.option("--json", "as_json", is_flag=True, help=JSON_STREAM_HELP)
@handle_errors
def destroy(
    path: Path,
    state: str | None,
    variables: dict[str, Any],
    sandbox: SandboxTuning | None,
    options: PlanOptions,
    compact_warnings: bool,
    auto_approve: bool,
    as_json: bool,
    lock_timeout: float,
    input_enabled: bool | None,
) -> None:
    """Delete every object labform manages for this plan, dependents first."""
    options.destroy = True
    ws = _workspace(path, state, variables, sandbox, lock_timeout=lock_timeout)
    _carry_out(ws, options, None, auto_approve, as_json, compact_warnings, input_enabled=input_enabled)


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@lock_option
@input_option
@handle_errors
def refresh(
    path: Path, state: str | None, variables: dict[str, Any], sandbox: SandboxTuning | None, lock_timeout: float
) -> None:
    """Record in state what the cloud has now (no remote changes)."""
    from labform.engine import runner

    result = runner.refresh(_workspace(path, state, variables, sandbox, lock_timeout=lock_timeout))
    click.echo(result.text(_color()))


@main.command("import")
@click.argument("address")
@click.argument("remote_id")
@PATH_ARG
@workspace_options
@sandbox_option
@lock_option
@input_option
@handle_errors
def import_(
    address: str,
    remote_id: str,
    path: Path,
    state: str | None,
    variables: dict[str, Any],
    sandbox: SandboxTuning | None,
    lock_timeout: float,
) -> None:
    """Adopt an existing remote object as ADDRESS."""
    from labform.engine import runner

    item = runner.import_resource(
        _workspace(path, state, variables, sandbox, lock_timeout=lock_timeout), parse_address(address), remote_id
    )
    click.echo(f"Imported {address} (id {item.id}). Run 'labform plan' to see any differences with the plan.")


def _resource_lines(address: str, item: ResourceState) -> list[str]:
    """One resource of state as ``show`` and ``state show`` print it; secrets as (sensitive)."""
    from labform.engine.arguments import sensitive_keys
    from labform.providers import registry

    rtype = registry.resource_type(item.type)
    sensitive = sensitive_keys(rtype, item.attributes) if rtype else frozenset()
    lines = [f"# {address} (id {item.id})"]
    width = max((len(k) for k in item.attributes), default=0)
    for key, value in sorted(item.attributes.items()):
        shown = SENSITIVE if key in sensitive else json.dumps(value, default=str)
        lines.append(f"  {key.ljust(width)} = {shown}")
    return lines


@main.command()
@click.argument("file", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--state", "state", metavar="PATH", help="Show this state (a file, or postgresql://...).")
@json_option
@handle_errors
def show(file: Path, state: str | None, as_json: bool) -> None:
    """Show a saved plan (FILE from plan -out), or the state of a plan (FILE a plan folder or file)."""
    from labform.engine import planfile, runner

    if planfile.is_saved_plan(file):
        result = runner.show_saved_plan(file)
        click.echo(result.json() if as_json else result.text(_color()))
        return
    if file.suffix == ".json" and not state:  # a state file given directly
        file, state = Path("."), str(file)
    current = runner.read_state(_workspace(file, state, {}))
    if as_json:
        click.echo(redact(json.dumps(runner.state_values(current), indent=2, sort_keys=True, default=str)))
        return
    if not current.resources:
        click.echo("The state is empty.")
    for address, item in sorted(current.resources.items()):
        click.echo("\n".join(_resource_lines(address, item)) + "\n")
    if current.outputs:
        _print_outputs(runner.output_values(current.outputs))


@main.group()
def state() -> None:
    """Inspect and edit state."""


@state.command("list")
@PATH_ARG
@workspace_options
@handle_errors
def state_list(path: Path, state: str | None, variables: dict[str, Any]) -> None:
    """List the addresses state holds, one a line."""
    from labform.engine import runner

    for address in sorted(runner.read_state(_workspace(path, state, variables)).resources):
        click.echo(address)


@state.command("show")
@click.argument("address")
@PATH_ARG
@workspace_options
@handle_errors
def state_show(address: str, path: Path, state: str | None, variables: dict[str, Any]) -> None:
    """Show one object of state: its id and recorded attributes (secrets as (sensitive))."""
    from labform.engine import runner

    current = runner.read_state(_workspace(path, state, variables))
    item = current.resources.get(str(parse_address(address)))
    if item is None:
        raise LabformError(f"{address} is not in state")
    click.echo("\n".join(_resource_lines(address, item)))


@state.command("rm")
@click.argument("address")
@PATH_ARG
@workspace_options
@lock_option
@handle_errors
def state_rm(address: str, path: Path, state: str | None, variables: dict[str, Any], lock_timeout: float) -> None:
    """Forget an object without deleting it remotely."""
    from labform.engine import runner

    for removed in runner.state_rm(
        _workspace(path, state, variables, lock_timeout=lock_timeout), [parse_address(address)]
    ):
        click.echo(f"Removed {removed} from state (the remote object is untouched).")


@state.command("mv")
@click.argument("source")
@click.argument("target")
@PATH_ARG
@workspace_options
@lock_option
@handle_errors
def state_mv(
    source: str, target: str, path: Path, state: str | None, variables: dict[str, Any], lock_timeout: float
) -> None:
    """Rename an address in state (after renaming it in the plan)."""
    from labform.engine import runner

    runner.state_mv(
        _workspace(path, state, variables, lock_timeout=lock_timeout), parse_address(source), parse_address(target)
    )
    click.echo(f"Moved {source} to {target}.")


@state.command("resolve")
@click.argument("address")
@PATH_ARG
@click.option("--id", "remote_id", metavar="ID", help="The create made this object: read it by its id and record it.")
@click.option("--not-created", is_flag=True, help="The create made nothing: forget it, so the next apply sends it.")
@workspace_options
@sandbox_option
@lock_option
@handle_errors
def state_resolve(
    address: str,
    path: Path,
    remote_id: str | None,
    not_created: bool,
    state: str | None,
    variables: dict[str, Any],
    sandbox: SandboxTuning | None,
    lock_timeout: float,
) -> None:
    """Say what became of a create whose outcome is unknown (plan shows it as '? ADDR')."""
    from labform.engine import runner

    if (remote_id is None) == (not not_created):
        raise LabformError("give exactly one of --id ID (it was made) and --not-created")
    item = runner.state_resolve(
        _workspace(path, state, variables, sandbox, lock_timeout=lock_timeout), parse_address(address), remote_id
    )
    if item is None:
        click.echo(f"Forgot the create of {address}: the next apply sends it.")
    else:
        click.echo(
            f"Recorded {address} (id {item.id}) as what its create made. Run 'labform plan' to see what is left."
        )


# --- encryption at rest (engine/encryption): rekey, migrate, accept a rollback on purpose ----------
_FORCE_ROLLBACK = click.option(
    "--force-rollback",
    is_flag=True,
    help="Accept a state older than (or of another lineage than) the high-water mark; recorded in the journal.",
)


def _rewrite_state(
    path: Path, state: str | None, variables: dict[str, Any], lock_timeout: float, plaintext: bool, force: bool
) -> None:
    from labform.engine.encryption.commands import rewrite

    done = rewrite(_workspace(path, state, variables, lock_timeout=lock_timeout), plaintext, force)
    if done.accepted is not None:
        click.echo(
            f"Accepted the state at serial {done.serial} below the high-water mark (serial {done.accepted.serial} "
            f"of lineage {done.accepted.lineage}): recorded in the journal and the mark.",
            err=True,
        )
    how = "unencrypted" if done.sealed_with is None else f"encrypted ({done.sealed_with})"
    if done.where is not None:
        click.echo(f"Rewrote state {done.where} {how}.")
    elif done.history is None:
        click.echo("No state encryption is configured, and there is no encrypted test history: nothing was rewritten.")
    if done.history is not None:
        click.echo(f"The test history's data key is wrapped under the current key: {done.history}.")


@state.command("rekey")
@PATH_ARG
@workspace_options
@lock_option
@_FORCE_ROLLBACK
@handle_errors
def state_rekey(
    path: Path, state: str | None, variables: dict[str, Any], lock_timeout: float, force_rollback: bool
) -> None:
    """Rewrite the state, journal and high-water mark with the current key, and wrap the test history's key
    under it (after a rotation; reconciliations: labform reconcile rekey)."""
    _rewrite_state(path, state, variables, lock_timeout, False, force_rollback)


@state.command("encrypt")
@PATH_ARG
@workspace_options
@lock_option
@_FORCE_ROLLBACK
@handle_errors
def state_encrypt(
    path: Path, state: str | None, variables: dict[str, Any], lock_timeout: float, force_rollback: bool
) -> None:
    """Encrypt a plain state now with the configured key (otherwise its next write does)."""
    _rewrite_state(path, state, variables, lock_timeout, False, force_rollback)


@state.command("decrypt")
@PATH_ARG
@workspace_options
@lock_option
@click.option("--allow-plaintext", is_flag=True, help="Yes, write the state unencrypted from now on.")
@handle_errors
def state_decrypt(
    path: Path, state: str | None, variables: dict[str, Any], lock_timeout: float, allow_plaintext: bool
) -> None:
    """Write an encrypted state back unencrypted (then remove the plan's state encryption)."""
    if not allow_plaintext:
        raise LabformError("state decrypt writes your state unencrypted: say so with --allow-plaintext")
    _rewrite_state(path, state, variables, lock_timeout, True, False)


def _raw(name: str, value: Any) -> str:
    """Terraform's ``output -raw``: a string, number or bool as is, for shell scripts."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    raise LabformError(f"output '{name}' is a {type(value).__name__}, which -raw cannot print: use -json")


@main.command()
@click.argument("name_or_path", required=False)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@workspace_options
@json_option
@click.option("--raw", is_flag=True, help="Print one output's value as is (no quotes), for scripts.")
@handle_errors
def output(
    name_or_path: str | None, path: Path, state: str | None, variables: dict[str, Any], as_json: bool, raw: bool
) -> None:
    """Print the outputs of the last apply, or one: output [NAME] [PATH] (a lone argument that
    exists on disk is the PATH)."""
    from labform.engine import config, runner

    name = name_or_path
    if path is None and name_or_path is not None and Path(name_or_path).exists():
        name, path = None, Path(name_or_path)
    values = runner.output_values(runner.read_state(_workspace(path or Path("."), state, variables)).outputs)
    if name is None:
        if raw:
            raise LabformError("-raw prints one output: name it (labform output -raw NAME)")
        if as_json:
            click.echo(json.dumps(values, indent=2, sort_keys=True, default=str))
            return
        if not values:
            click.echo("No outputs found: apply the plan first, or check that it declares outputs.", err=True)
        for output_name, shown in values.items():
            click.echo(
                f"{output_name} = {SENSITIVE if shown['sensitive'] else json.dumps(shown['value'], default=str)}"
            )
        return
    if name not in values:
        raise LabformError(f"output '{name}' not found{config.suggestion(name, values)}")
    shown = values[name]
    if raw:
        click.echo(_raw(name, shown["value"]), nl=False)
    elif as_json:
        click.echo(json.dumps(shown["value"], indent=2, default=str))
    else:
        click.echo(SENSITIVE if shown["sensitive"] else json.dumps(shown["value"], default=str))


@main.command()
@PATH_ARG
@workspace_options
@handle_errors
def graph(path: Path, state: str | None, variables: dict[str, Any]) -> None:
    """Print the dependency graph as DOT (pipe into 'dot -Tpng')."""
    from labform.engine import runner

    click.echo(runner.graph_dot(_workspace(path, state, variables)), nl=False)


@main.command()
@PATH_ARG
@workspace_options
@click.option(
    "-o",
    "--out",
    "out",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML page to write; its Markdown summary and kept figures go beside it (.md, .json).",
)
@handle_errors
def report(path: Path, state: str | None, variables: dict[str, Any], out: Path) -> None:
    """Write the HTML report of the runs state holds (device x test matrix, timeline, artifacts, cost)."""
    from labform.engine import report as reports
    from labform.engine import runner

    if out.suffix.lower() not in (".html", ".htm"):
        raise LabformError(f"-o {out}: the report is an HTML page: name it .html")
    shown = reports.views(
        runner.read_state(_workspace(path, state, variables)), out.parent, None, out.with_suffix(".json")
    )
    for written in reports.write(out, f"labform report {path}", shown):
        click.echo(f"Wrote {written}")


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; exit 3 if a file needs formatting (for CI).")
@click.option("--diff", is_flag=True, help="Also print each change as a unified diff.")
@click.option("--recursive", is_flag=True, help="Also format the plan files in every folder below PATH.")
@handle_errors
def fmt(path: Path, check: bool, diff: bool, recursive: bool) -> None:
    """Rewrite plan files in the canonical layout, keeping comments; print the files it changed."""
    from labform.engine import fmt as layout

    changes = layout.reformatted(path, recursive)
    for file, (before, after) in changes.items():
        click.echo(str(file))
        if diff:
            click.echo(layout.unified_diff(file, before, after), nl=False)
    if not check:
        layout.rewrite(changes)
    elif changes:
        sys.exit(exit_codes.NEEDS_FORMATTING)


@main.command("force-unlock")
@PATH_ARG
@workspace_options
@handle_errors
def force_unlock(path: Path, state: str | None, variables: dict[str, Any]) -> None:
    """Remove a state lock left behind by a crashed labform."""
    from labform.engine import runner

    holder = runner.force_unlock(_workspace(path, state, variables))
    if holder is None:
        click.echo("State is not locked.")
    else:
        click.echo(
            f"Removed the lock held by pid {holder.get('pid')} on {holder.get('host')} since {holder.get('time')}."
        )


@main.command("schema")
@click.option(
    "--out-dir",
    default="schemas",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Folder the schema file (labform.schema.json) is written to.",
)
@handle_errors
def schema_(out_dir: Path) -> None:
    """Write the JSON Schema of plan files (for editor completion)."""
    from labform.engine import schema

    written = schema.write_schema(out_dir)
    click.echo(f"Wrote {written}")


@main.group()
def providers() -> None:
    """The clouds labform drives: their arguments, as Terraform's providers commands show them."""


@providers.command("schema")
@json_option
@handle_errors
def providers_schema(as_json: bool) -> None:
    """Print every provider's schema (-json: Terraform's providers schema shape, the only output)."""
    from labform.engine.provider_schema import providers_schema as schema

    if not as_json:
        raise LabformError("providers schema prints JSON only, as in Terraform: labform providers schema -json")
    click.echo(json.dumps(schema(), indent=2, sort_keys=True))


def _emulated_clouds(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    from labform.providers import registry

    unknown = sorted(set(values) - set(registry.emulator_names()))
    if unknown:
        raise click.BadParameter(
            f"no emulator for {', '.join(unknown)} (emulated: {', '.join(registry.emulator_names())})"
        )
    return values


def _cloud_variants(ctx: click.Context, param: click.Parameter, pairs: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for pair in pairs:
        cloud, sep, name = pair.partition("=")
        if not (sep and cloud and name):
            raise click.BadParameter(f"'{pair}' is not CLOUD=NAME")
        chosen[cloud] = name
    return chosen


def _listening(host: str) -> str:
    """Where the sandbox listens, for its start line; beyond loopback, a warning on stderr first
    that others can reach it."""
    from labform.engine.sandbox import is_loopback

    if is_loopback(host):
        return f"on {host} (loopback: only this machine reaches it; --listen HOST serves others)"
    click.echo(
        click.style("Warning: ", fg="yellow", bold=True)
        + f"the sandbox listens on {host}: anyone on the network who reaches this machine can use the "
        "emulators with the sandbox credentials printed here (they are not secret) and change what they hold.",
        err=True,
    )
    return f"on {'every interface' if host in ('0.0.0.0', '::') else host} ({host}: reachable from the network)"


@main.command()
@click.option("--port-base", type=int, default=None, help="First port (default: free ports).")
@click.option(
    "--listen",
    default="127.0.0.1",
    metavar="HOST",
    show_default=True,
    help="Address to serve on; anything but loopback lets other machines reach the emulators.",
)
@click.option(
    "--data",
    "--data-dir",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Keep the emulators' objects here, across restarts.",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="CLOUD",
    callback=_emulated_clouds,
    help="Serve only this cloud (repeatable).",
)
@sandbox_tuning_options
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="CLOUD=NAME",
    callback=_cloud_variants,
    help="Serve CLOUD's emulator with one of its doc variants (providers/CLOUD/emulator/variants.py; repeatable).",
)
@click.option(
    "--open-inspection",
    is_flag=True,
    help="Serve the emulators' /_emulator/ endpoints (request log, store, clock) without the printed token.",
)
@handle_errors
def sandbox(
    port_base: int | None,
    listen: str,
    data_dir: Path | None,
    only: tuple[str, ...],
    tuning: SandboxTuning,
    variants: dict[str, str],
    open_inspection: bool,
) -> None:
    """Serve every cloud's emulator on loopback (or --listen HOST) until interrupted.

    With --failure-rate, --latency, --test-failure-share and --seed it is a flaky
    cloud to rehearse your own plans against; point a plan's provider at the
    printed URL and settings. The same knobs work beside --sandbox on plan and apply.
    """
    from labform.engine.sandbox import start_sandbox
    from labform.providers import registry
    from labform.providers.emulation.app import INSPECTION_HEADER

    clouds = only or registry.emulator_names()
    with start_sandbox(
        clouds, data_dir, port_base, {**tuning, "variants": variants}, open_inspection, listen
    ) as running:
        where = _listening(listen)
        for cloud, settings in running.settings().items():
            click.echo(f"{cloud:10} {running.servers[cloud].url}  settings: {json.dumps(settings)}")
        click.echo(
            "Inspection: open (no token)"
            if running.inspection_token is None
            else f"Inspection: token {running.inspection_token} (header {INSPECTION_HEADER}, for /_emulator/)"
        )
        click.echo(f"Serving {where} with {running.describe()}; press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("Stopped.")


# --- labform reconcile: workspaces kept in step with git (engine/reconcile/, docs/reconcile.md) ---
def _reconcile_config(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--config",
        "config_file",
        default="labform.reconcile.yaml",
        show_default=True,
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="The reconcile configuration.",
    )(command)


@main.group()
def reconcile() -> None:
    """Keep workspaces in step with their git repositories: plan, report drift, apply within a policy."""


@reconcile.command("schema")
@click.option(
    "--out-dir",
    default="schemas",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Folder the schema file (labform.reconcile.schema.json) is written to.",
)
@handle_errors
def reconcile_schema(out_dir: Path) -> None:
    """Write the JSON Schema of labform.reconcile.yaml (for editor completion)."""
    from labform.engine.reconcile import config

    click.echo(f"Wrote {config.write_schema(out_dir)}")


@reconcile.command("validate")
@_reconcile_config
@handle_errors
def reconcile_validate(config_file: Path) -> None:
    """Check the reconcile configuration (every mistake at its file:line:col)."""
    from labform.engine.reconcile import config

    loaded = config.load_config(config_file)
    click.echo(f"The reconcile configuration is valid: {len(loaded.config.workspaces)} workspaces.")


def _reconciler(config_file: Path, stop: Any = None) -> Any:
    """The config checked, and a reconciler on its database (sealing the rows if the config or
    LABFORM_ENCRYPTION names the reconciliations encryption target)."""
    from labform.engine.reconcile.config import load_config
    from labform.engine.reconcile.reconciler import Reconciler
    from labform.engine.reconcile.records import Records

    loaded = load_config(config_file)
    return Reconciler(loaded, Records(loaded.config.database, loaded.reconciliations_target()), stop)


def _reconciliation_line(item: Any) -> str:
    summary = item.summary
    counts = (
        f", plan {summary['add']} to add, {summary['change']} to change, {summary['destroy']} to destroy"
        if summary
        else ""
    )
    drifted = summary.get("drifted") or len(item.drift)  # the summary's count is in clear, the drift maybe sealed
    drift = f", {drifted} drifted" if drifted else ""
    took = f" in {item.seconds:.1f}s" if item.seconds is not None else ""
    commit = f" at {item.commit[:12]}" if item.commit else ""
    state = f"{item.outcome or 'in progress'}{commit}{counts}{drift}{took}{item.unreadable_note()}"
    return f"#{item.id} {item.workspace}: {state}"


def _print_reconciliation(item: Any, as_json: bool) -> None:
    if as_json:
        click.echo(redact(json.dumps(item.to_json(), indent=2, default=str)))
        return
    click.echo(redact(_reconciliation_line(item)))
    if item.error:
        click.echo(redact(f"  {item.error}"), err=item.outcome in ("failed", "needs resolution", "refused"))
    if item.policy.get("broken"):
        click.echo(f"  policy rules that did not hold: {', '.join(item.policy['broken'])}")
    if item.outcome == "awaiting approval":
        click.echo(f"  approve it with: labform reconcile approve {item.workspace} {item.id}")
    if item.report:
        click.echo(f"  report: {item.report}")


_FAILED_OUTCOMES = ("failed", "check failed", "needs resolution", "refused")


@reconcile.command("now")
@click.argument("workspace")
@_reconcile_config
@json_option
@click.option("--queue", "queued", is_flag=True, help="Queue it for the workers instead of running it here.")
@handle_errors
def reconcile_now(workspace: str, config_file: Path, as_json: bool, queued: bool) -> None:
    """Reconcile WORKSPACE at once, in this process (exit 1 when it failed), or queue it (--queue)."""
    reconciler = _reconciler(config_file)
    if queued:
        from labform.engine.reconcile import queue

        reconciler.loaded.workspace(workspace)
        queue.ensure_schema(reconciler.loaded.config.database)
        with queue.build_app(reconciler).open() as app:
            fresh = queue.enqueue(app, workspace, "now")
        click.echo(f"Queued {workspace}." if fresh else f"{workspace} is queued already.")
        return
    item = reconciler.reconcile(workspace)
    _print_reconciliation(item, as_json)
    sys.exit(exit_codes.ERROR if item.outcome in _FAILED_OUTCOMES else exit_codes.OK)


@reconcile.command("approve")
@click.argument("workspace")
@click.argument("number", metavar="ID", type=int)
@_reconcile_config
@json_option
@handle_errors
def reconcile_approve(workspace: str, number: int, config_file: Path, as_json: bool) -> None:
    """Apply the plan reconciliation ID saved, exactly; refused if the state moved since (as apply FILE is)."""
    item = _reconciler(config_file).approve(workspace, number)
    _print_reconciliation(item, as_json)
    sys.exit(exit_codes.ERROR if item.outcome in _FAILED_OUTCOMES else exit_codes.OK)


@reconcile.command("status")
@click.argument("workspace", required=False)
@_reconcile_config
@json_option
@handle_errors
def reconcile_status(workspace: str | None, config_file: Path, as_json: bool) -> None:
    """The latest reconciliation of each workspace; with WORKSPACE, its history too."""
    reconciler = _reconciler(config_file)
    names = (
        [reconciler.loaded.workspace(workspace) and workspace]
        if workspace
        else list(reconciler.loaded.config.workspaces)
    )
    latest = reconciler.records.latest(names)
    history = reconciler.records.history(workspace) if workspace else []
    if as_json:
        document = {
            "workspaces": {name: latest[name].to_json() if name in latest else None for name in names},
            **({"history": [item.to_json() for item in history]} if workspace else {}),
        }
        click.echo(redact(json.dumps(document, indent=2, default=str)))
        return
    for name in names:
        click.echo(redact(_reconciliation_line(latest[name])) if name in latest else f"{name}: never reconciled")
    if history:
        click.echo("\nHistory:")
        for item in history:
            click.echo(redact("  " + _reconciliation_line(item)))


@reconcile.command("rekey")
@_reconcile_config
@handle_errors
def reconcile_rekey(config_file: Path) -> None:
    """Seal every finished reconciliation with the current key at once (after a rotation, or plain rows once
    the reconciliations target is configured); one transaction: a row that cannot be read stops it all."""
    from labform.engine.reconcile.rekey import rekey

    done = rekey(_reconciler(config_file).records)
    click.echo(
        f"Sealed {done.rewritten} of {done.finished} finished reconciliations anew with {done.sealed_with}"
        + (f"; {done.running} in progress are left to their workers." if done.running else ".")
    )


@reconcile.command("worker")
@_reconcile_config
@handle_errors
def reconcile_worker(config_file: Path) -> None:
    """Take reconciles from the PostgreSQL queue until SIGTERM (which lets the current change finish)."""
    from labform.engine.reconcile import queue

    reconciler = _reconciler(config_file)
    click.echo(
        f"Worker for {len(reconciler.loaded.config.workspaces)} workspaces; SIGTERM stops it after the current change."
    )
    queue.run_worker(reconciler)
    click.echo("Worker stopped.")


@reconcile.command("serve")
@_reconcile_config
@click.option("--listen", default=None, metavar="HOST", help="Address to bind [default: webhook.listen, loopback].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [default: webhook.port, 8089].")
@handle_errors
def reconcile_serve(config_file: Path, listen: str | None, port: int | None) -> None:
    """Serve the push webhook (GitHub's X-Hub-Signature-256), /healthz and /metrics until interrupted."""
    from labform.engine.reconcile import config, server
    from labform.engine.sandbox import is_loopback

    reconciler = _reconciler(config_file)
    secret = config.webhook_secret(reconciler.loaded)
    if secret is None:
        raise LabformError("reconcile serve needs the webhook's secret: set webhook.secret_env or webhook.secret_file")
    hook = reconciler.loaded.config.webhook
    host, bound = listen or hook.listen, hook.port if port is None else port
    if not is_loopback(host):
        click.echo(
            click.style("Warning: ", fg="yellow", bold=True) + f"serving on {host}: reachable from the network",
            err=True,
        )
    click.echo(f"Serving the webhook, /healthz and /metrics on http://{host}:{bound}/")
    server.serve(reconciler, secret, host, bound)


# --- labform tests: test history and sharding (engine/history/) --------------
@main.group("tests")
def tests_() -> None:
    """Test results kept across runs, commits and clouds: record JUnit, find flaky tests, shard by duration."""


def _history(where: Path, state: str | None) -> HistoryStore:
    """The history beside the state of the plan at ``where`` (or of --state: then the runner, which
    only knows the default location, is not loaded), encrypted as that plan's history target says."""
    from labform.engine.history import open_history

    return open_history(state or _workspace(where, state, {}).state_location(), where)


def _known_cloud(ctx: click.Context, param: click.Parameter, cloud: str) -> str:
    from labform.providers import registry

    if cloud not in registry.provider_names():
        raise click.BadParameter(f"'{cloud}' is not a cloud labform knows ({', '.join(registry.provider_names())})")
    return cloud


def _since(ctx: click.Context, param: click.Parameter, value: str) -> datetime:
    from labform.engine.history import period

    try:
        return period.since(value)
    except LabformError as exc:
        raise click.BadParameter(str(exc)) from None


since_option = click.option(
    "--since",
    default="30d",
    metavar="PERIOD",
    callback=_since,
    help="Only results recorded this long ago or later (2w, 30d, 12h, 90m) [default: 30d].",
)
include_local_option = click.option(
    "--include-local", is_flag=True, help="Count results recorded outside CI too (by default figures are CI's)."
)
history_state_option = click.option(
    "--state", "state", metavar="PATH", help="The state whose history to use: a file, or postgresql://..."
)


@tests_.command("record")
@click.argument("junit", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--cloud",
    required=True,
    callback=_known_cloud,
    help="The cloud the tests ran on: a provider's name, as plans' providers: name them.",
)
@click.option(
    "--device",
    help="The device model they ran on [default: each testsuite's 'device' property, else its name, "
    "as labform's JUnit files name each suite after its device].",
)
@click.option(
    "--commit",
    help="The commit they ran on [default: the CI's (GITHUB_SHA, CI_COMMIT_SHA, ...), else git in the plan folder].",
)
@click.option(
    "--source",
    type=click.Choice(["ci", "local"]),
    help="Where they ran [default: ci when the CI variable is set, else local].",
)
@click.option(
    "--plan",
    "plan_path",
    default=".",
    type=click.Path(exists=True, path_type=Path),
    help="The plan folder: the history is its state's, the commit its git HEAD [default: .].",
)
@history_state_option
@handle_errors
def tests_record(
    junit: tuple[Path, ...],
    cloud: str,
    device: str | None,
    commit: str | None,
    source: Literal["ci", "local"] | None,
    plan_path: Path,
    state: str | None,
) -> None:
    """Add every attempt of every test in JUNIT files (Surefire's reruns too) to the test history."""
    from labform.engine.history import provenance, record_junit

    store = _history(plan_path, state)
    commit = commit or provenance.current_commit(plan_path if plan_path.is_dir() else plan_path.parent)
    source = source or provenance.current_source()
    for path in junit:
        recorded = record_junit(store, store.workspace, cloud, path, device=device, commit=commit, source=source)
        click.echo(
            f"Recorded {recorded.attempts} results of {recorded.tests} tests from {path} "
            f"({cloud}, commit {commit[:12] if commit else 'unknown'}, {source}) in {store.describe()}."
        )


@tests_.command("flaky")
@PATH_ARG
@since_option
@include_local_option
@click.option(
    "--limit", type=click.IntRange(min=0), default=20, help="List this many flaky tests (0: all) [default: 20]."
)
@history_state_option
@json_option
@handle_errors
def tests_flaky(path: Path, since: datetime, include_local: bool, limit: int, state: str | None, as_json: bool) -> None:
    """List the flakiest tests (passed and failed on one commit), the broken ones, and the clouds history covers."""
    from labform.engine.history.figures import FlakyReport

    store = _history(path, state)
    figures = store.figures(store.workspace, since, include_local)
    report = FlakyReport(store.describe(), since, include_local, figures, limit)
    click.echo(report.json() if as_json else report.text())


@tests_.command("shards")
@click.argument("plan_or_units_file", type=click.Path(exists=True, path_type=Path))
@click.option("--shards", type=int, help="Split into this many shards (at most, with --shard-time).")
@click.option(
    "--shard-time",
    metavar="DURATION",
    callback=lambda ctx, param, value: None if value is None else duration(ctx, param, value),
    help="As many shards as it takes for each to last about this long (e.g. 5m).",
)
@since_option
@include_local_option
@history_state_option
@json_option
@handle_errors
def tests_shards(
    plan_or_units_file: Path,
    shards: int | None,
    shard_time: float | None,
    since: datetime,
    include_local: bool,
    state: str | None,
    as_json: bool,
) -> None:
    """Split a plan's units (its kyaraben campaigns' packages, its Bitbar runs' classes as history
    knows them) or a units file's into balanced shards by recorded durations, and print each shard's
    expected duration."""
    from labform.engine.history import sharding, units
    from labform.engine.history.run_shards import Durations

    store = _history(plan_or_units_file if units.is_plan(plan_or_units_file) else Path("."), state)
    history = Durations(lambda: store, since, include_local)
    found = units.suite_units(plan_or_units_file, history.tests_on)
    split = sharding.split(found, sharding.unit_durations(found, history.medians()), shards, shard_time)
    click.echo(json.dumps(split.as_json(), indent=2) if as_json else split.text())
