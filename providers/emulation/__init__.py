"""The emulator kit: what every cloud's emulator is built from, each piece in its own module.

    Emulator (base.py)            options, clock, store, request log, uploads; app()
    └── EmulatorApp (app.py)      routes + control endpoints, behind FaultMiddleware (faults.py)
    Rejection (rejections.py)     the one way to refuse a request, in the cloud's envelope
    Validators (validators.py)    request-parameter checks raising the cloud's Rejection
    EmulatorEntry (entry.py)      build_app + provider_settings: what the registry points at
    EmulatorServer (server.py)    uvicorn on loopback, for tests and the sandbox

Emulators are test and sandbox machinery: production code never imports this
package (``labform validate`` and ``--help`` load no Starlette). See README.md.
"""

from labform.providers.emulation.app import CONTROL_PREFIX, EmulatorApp
from labform.providers.emulation.auth import Handler, basic_auth, require_basic_auth
from labform.providers.emulation.base import Emulator
from labform.providers.emulation.clock import VIRTUAL_EPOCH, Clock, virtual_datetime
from labform.providers.emulation.entry import EmulatorEntry
from labform.providers.emulation.fakes import (
    FLAKY_ATTEMPT_FAILURE,
    failing_positions,
    flaky_attempt_fails,
    mark_flaky,
    seeded_random,
    tiny_pdf,
    tiny_png,
    zip_bytes,
)
from labform.providers.emulation.faults import FaultMiddleware
from labform.providers.emulation.inspection import AppDefect, AppFacts, app_platform, extension, inspect_app
from labform.providers.emulation.options import EmulatorOptions
from labform.providers.emulation.rejections import Rejection, as_json
from labform.providers.emulation.requestlog import RequestLog, RequestRecord
from labform.providers.emulation.server import EmulatorServer, free_port
from labform.providers.emulation.store import JsonStore, page_window
from labform.providers.emulation.uploads import StoredUpload, save_upload, upload_directory
from labform.providers.emulation.validators import Problem, Validators

__all__ = [
    "CONTROL_PREFIX",
    "FLAKY_ATTEMPT_FAILURE",
    "VIRTUAL_EPOCH",
    "AppDefect",
    "AppFacts",
    "Clock",
    "Emulator",
    "EmulatorApp",
    "EmulatorEntry",
    "EmulatorOptions",
    "EmulatorServer",
    "FaultMiddleware",
    "Handler",
    "JsonStore",
    "Problem",
    "Rejection",
    "RequestLog",
    "RequestRecord",
    "StoredUpload",
    "Validators",
    "app_platform",
    "as_json",
    "basic_auth",
    "extension",
    "failing_positions",
    "flaky_attempt_fails",
    "free_port",
    "inspect_app",
    "mark_flaky",
    "page_window",
    "require_basic_auth",
    "save_upload",
    "seeded_random",
    "tiny_pdf",
    "tiny_png",
    "upload_directory",
    "virtual_datetime",
    "zip_bytes",
]
