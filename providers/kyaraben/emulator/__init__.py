"""The kyaraben emulator: every endpoint of the kyaraben HTTP API, on the emulator kit.

It follows the doc (docs/endpoints.tsv lists the 39 endpoints): the
``X-Auth-UserId`` header (401 ``Missing authentication header`` without it,
except on GET /images), the one-key JSON envelopes, 404 for anything that is not the user's (the doc's
security rule), asynchronous statuses on the options' clock (timeline.py), the
user's quota (over it, a VM is in ERROR and retried, as the doc says of
OpenStack errors), commands with returncode/stdout/stderr, and the kit's
latency and fault injection.

Where the doc is silent it takes the most permissive reading. The choices,
and the variants (variants.py) that start it with the other readings:

| choice (default) | doc line it reads | variants |
| --- | --- | --- |
| a refused project delete is 409 ``{"error": ...}`` | DELETE /projects: "Projects can only be removed if they don't contain running vms or campaigns" (no status given) | ``delete-refused-400``; ``delete-refused-async`` (202, then status ERROR with status_reason) |
| only running (QUEUED/RUNNING) campaigns block that delete | same line: "running vms or campaigns" | ``any-campaign-blocks-delete`` |
| VMs not being deleted block it (any status but DELETING/DELETED) | same line | - |
| a VM is renamed by PUT /android/{avm_id} and by PUT /android with avm_id in the body | heading "PUT /android", example "http put :8084/android/7829..." | ``rename-vm-path-only``, ``rename-vm-heading-only`` (the other answers 405) |
| PUT /projects/{id} reads project_name or avm_name | example "project_name=qwerty", field list "avm_name (string) – new project name" | ``rename-project-name-only``, ``rename-project-avm-name-only`` |
| a DELETED object is gone: unlisted, 404 | status lists end "DELETING, DELETED" without saying whether DELETED is ever shown | ``deleted-stay-listed`` |
| GET /android/{id} hwconfig has every documented key, those not given at creation at the example's values (dpi 160, enable_battery 0, enable_camera 1, enable_gps 1, enable_gsm 1, enable_nfc 0, enable_record 0, enable_sensors 1, height 800, width 1280) | GET /android/{avm_id} example: "hwconfig": {"dpi": 160, ... "width": 1280} (all ten keys) beside "hwconfig (object) – the environment configuration provided at time of creation" | ``hwconfig-as-given`` (only the keys given) |
| a campaign whose tests ended, some in ERROR, is READY | campaign_status "one of (QUEUED, RUNNING, READY, DELETING, DELETED, ERROR)" | ``failed-campaign-error`` |
| a hwconfig key the doc does not list is ignored | "hwconfig (object) – object with one or more of the following keys"; 400 "malformed request" | ``strict-hwconfig`` (400 with the schema) |
| GET /images answers without X-Auth-UserId (the same list for everyone) | GET /images: "X-Auth-UserId – a user who has access to the AVM" beside "Parameters: avm_id – the virtual machine identifier": both lines copied from a VM endpoint (/images has no avm_id) | ``images-need-user`` (the doc's 401 without it) |
| any X-Auth-UserId is a user; an unknown one owns nothing | GET /android: "If the user does not exist, no error is reported and an empty list is returned" | - |
| a campaign test's VM comes from vm_async_max; without a free one the test stays QUEUED, its VM in ERROR and retried | quota "maximum number of concurrent vms in test campaigns"; POST /android "ERROR ... automatically rescheduled" | - |
| a VM with an image the cloud lacks is in ERROR, retried (never READY) | POST /android: "Errors coming from OpenStack ... will leave the AVM resource with a status of ERROR" | - |
| an apk whose AndroidManifest.xml cannot be read ends in ERROR with the reason | GET /projects/{id}/apk: "package (string) – package name from AndroidManifest.xml" | - |
| a test source without a ``Feature:`` line fails at COMPILING DSL | the DSL is shown only by example ("Feature: ... End") | - |
| each compile makes a new apk; a new test source content clears its apk_id (the apk stays) | POST .../testsources/{id}/apk: "Compile a test source to an APK file"; PUT: "Update the content" | - |
| a campaign test runs the first test package (an ``<instrumentation>``, or a compiled test source) among its apks; none, or an apk not in the project, ends it in ERROR | POST campaigns: "apks – list of APKs to install", "packages – list of packages under test" | - |
| a command waits (QUEUED) until its VM is READY; an install of an unreadable apk answers returncode "1" | GET .../command/{id}: "returncode (string) – the return code of the adb command" | - |
| a campaign delete removes it at once (204) and deletes the VMs of tests still going | DELETE campaigns: "Remove an existing test campaign (either running, or finished)" | - |
| listings are not paged | every list example returns the whole list | - |
| bodies are JSON (httpie's ``key=value``); a form is read too; uploads are multipart ``file`` | "http post ... project_name=peace", "http --form ... file@..." | - |
| a missing campaign_name is generated like "lovely-big-cobra" | "custom campaign name, will generate one if missing" | - |

    app = build_app(EmulatorOptions(clock=Clock(speed=0)), variant="rename-vm-heading-only")
"""

from __future__ import annotations

from labform.providers.emulation import EmulatorApp, EmulatorEntry, EmulatorOptions
from labform.providers.kyaraben.emulator.app import USER_HEADER, KyarabenEmulator
from labform.providers.kyaraben.emulator.variants import VARIANTS, Variants

SANDBOX_USER = "labform-sandbox"

__all__ = ["SANDBOX", "SANDBOX_USER", "USER_HEADER", "VARIANTS", "Variants", "build_app"]


def build_app(options: EmulatorOptions | None = None, variant: str = "default") -> EmulatorApp:
    return KyarabenEmulator(options or EmulatorOptions(), VARIANTS[variant]).app()


SANDBOX = EmulatorEntry(build_app, lambda url: {"endpoint": url, "auth_value": SANDBOX_USER})
