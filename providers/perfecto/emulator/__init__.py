"""Perfecto Smart Reporting public API emulator (the doc's copy: tests/emulators/perfecto_examples.json).

Faithful to the doc: ``GET /export/api/v3/test-executions`` with every filter of
its table (``field[N]`` values ORed within a field, fields ANDed; the ``x``
prefix excludes; ``customField.NAME[N]``), pages of up to 500 (``_page`` from
1, ``metadata.truncated`` while more follow), ``metadata.processingStatus``
going from PROCESSING (videos and artifacts not yet available) to
PROCESSING_COMPLETE on the kit's clock; and
``GET /export/api/v3/test-executions/<TEST_ID>/commands`` with the test's steps.
Both need the security token. Latency and faults come from the kit's options.

Where the doc is silent or contradicts itself, this emulator decides, and says so;
``variants.VARIANTS`` names the other readings (``build_app(options, "first-500-only")``):

| choice (default reading) | doc line | variant |
| --- | --- | --- |
| the token goes in ``Perfecto-Authorization: <token>`` or ``PERFECTO_AUTHORIZATION: <token>``: the header tables are empty, and the export samples the doc links send the second (the rule for the default reading: providers/emulation/README.md) | 20-23, 31-34, 130-131, 299-302 | ``token-header-dashed-only`` (``Perfecto-Authorization`` alone), ``token-header-underscored-only`` (``PERFECTO_AUTHORIZATION`` alone); ``token-bearer-too`` also ``Authorization: Bearer``, ``token-bearer-only`` only that |
| a request without an accepted token is refused 401 ``{"message"}``, a JSON object on every variant (the doc requires the token, names no status or body; the samples parse every answer as a JSON object) | 20, 22 | ``refused-403`` |
| every key of the doc's example is in the emulator's own executions and commands (``selectionCriteria``, ``mobileInfo.description`` / ``firmware``, ``expectedData`` / ``resultData`` ...), and the schema's keys for a MOBILE device; keys the emulator never writes are listed in tests/emulators/test_perfecto_emulator.py with their lines (``alias``, DESKTOP ``browserInfo``, ``videoFormat``: the example writes ``format``) | 164-292, 307-385 | none |
| "only retrieves the first 500 results" is one page: ``_page`` reaches the rest | 36, 52, 128-130 | ``first-500-only``: only the first 500 can be read; later pages are empty, ``truncated`` stays true |
| "sorted by test start time": newest first | 36 | ``oldest-first`` |
| processingStatus covers every execution the filters select, on every page | 140-141, 160-161 | ``processing-per-page``: only the page's |
| the time window is startExecutionTime[0] <= test start <= endExecutionTime[0]; as written (start <= startExecutionTime, start >= endExecutionTime) a window from earlier to later selects nothing | 43, 46, 116-117 | ``time-as-written`` |
| the ``x`` prefix goes before the parameter name (``xtags[0]=Java``); the doc's example is lost | 56-57 | none: an ``x`` before the value would exclude every value that starts with x |
| parameters the table does not list are ignored ("some of the URL request parameters") | 36 | none |
| ``status=FAILED`` without ``[0]`` reads as ``status[0]``; ``_page`` that is not a whole number >= 1 reads as 1 (its default) | 37, 52 | none |
| ``executionId[0]`` and ``externalId[0]`` are one field; INTERNET_EXPORER is INTERNET_EXPLORER | 64, 71, 242 | none |
| ``failureReason[0]`` (a "failure reason ID") matches ``failureReasonName``, the only failure reason the schema has; ``customField.NAME`` matches the test's custom fields; values match exactly | 107-111, 292 | none |
| an unknown TEST_ID has no commands: 200 with empty ``resources`` (the doc states no error, and no 4xx is invented) | 293-298 | none |
| ``metadata.createdAt`` is a number in the Execution Report and a string in the Commands Report, as the examples write them | 282, 379 | none |

Seeding: ``initial_data`` holds two builds of the CI job ``checkout-ci``
(#127 processed, one of its 12 tests failed; #128 processing for
``options.job_duration`` seconds, failing ``options.failure_share``).
``seed_executions`` adds made-up executions (a test can add 1,200 for a job),
``add_executions`` / ``add_commands`` add given ones (the doc's examples).
"""

from __future__ import annotations

from typing import Any

from labform.providers.emulation import EmulatorApp, EmulatorEntry, EmulatorOptions
from labform.providers.perfecto.emulator.app import EXECUTIONS, PAGE_SIZE, SANDBOX_JOB, SANDBOX_TOKEN, PerfectoEmulator
from labform.providers.perfecto.emulator.executions import make_executions
from labform.providers.perfecto.emulator.variants import VARIANTS, Variants

__all__ = [
    "EXECUTIONS",
    "PAGE_SIZE",
    "SANDBOX",
    "SANDBOX_JOB",
    "SANDBOX_TOKEN",
    "VARIANTS",
    "Variants",
    "add_commands",
    "add_executions",
    "build_app",
    "seed_executions",
    "token_header",
]


def build_app(options: EmulatorOptions | None = None, variant: str = "default") -> EmulatorApp:
    emulator = PerfectoEmulator(options or EmulatorOptions(), VARIANTS[variant])
    # Every endpoint is a GET (the kit saves after writes only): keep the seeded builds for the next sandbox command.
    emulator.store.save()
    return emulator.app()


def add_executions(app: EmulatorApp, resources: list[dict[str, Any]], processing: float | None = None) -> None:
    """Store doc-shaped executions; they finish processing ``processing`` virtual seconds from now (default: the job duration)."""
    ready = app.clock.now() + (app.options.job_duration if processing is None else processing)
    with app.store.lock:
        app.store.data["executions"] += [{"resource": r, "ready_at": ready} for r in resources]


def add_commands(app: EmulatorApp, test_id: str, steps: list[dict[str, Any]]) -> None:
    """Serve ``steps`` as the Commands Report of ``test_id``."""
    with app.store.lock:
        app.store.data["commands"][test_id] = steps


def seed_executions(
    app: EmulatorApp, count: int, *, job_name: str, job_number: int = 1, processing: float | None = None, **shape: Any
) -> list[dict[str, Any]]:
    """Add ``count`` made-up executions of one CI build that ran just now (``shape``: see ``make_executions``)."""
    shape.setdefault("failure_share", app.options.failure_share)
    made = make_executions(
        count,
        job_name=job_name,
        job_number=job_number,
        started=app.clock.now() - 60 * count,
        seed=app.options.seed,
        **shape,
    )
    add_executions(app, made, processing)
    return made


def token_header(variant: str) -> str | None:
    """The header the provider must send its token in for this variant (None: the default one does)."""
    reading = VARIANTS[variant]
    if reading.token == "bearer":
        return "Authorization"
    return None if reading.token_header == "either" else reading.token_header


SANDBOX = EmulatorEntry(
    build_app,
    lambda url: {"endpoint": url, "security_token": SANDBOX_TOKEN},
    lambda variant: {"token_header": header} if (header := token_header(variant)) else {},
)
