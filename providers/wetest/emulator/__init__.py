"""WeTest CloudTesting REST API emulator (shared/api-docs/wetest-rest-api.txt).

Faithful to the doc: every path under ``/cloudtest/v1`` with its method,
parameters (query, multipart ``data`` / ``file`` parts, JSON body) and the
documented response objects, all wrapped in the ``ret`` / ``msg`` envelope
(``ret`` 0 = success, doc line 164). Test status codes (0 testing, 1 finished,
2 canceled, 3 timeout) and per-device ``result_code`` meanings (0 running ...
6 user canceled, doc lines 382 and 459) are the documented ones.

Where the doc is silent, this emulator decides, and says so:

- Errors. The doc documents only the 200 responses, whose envelope carries
  ``ret``. So an API-level error is HTTP 200 with a non-zero ``ret`` from
  ``Ret`` (1001 bad parameter, 1002 not found, 1003 wrong state); only bad
  credentials get an HTTP status: 401 with ``ret`` 1004. Unknown routes get
  the framework's 404 / 405.
- Required-with-default fields of Submit Automation Test (``frame_type``,
  ``max_test_runtime``, ``max_device_runtime``, doc lines 245-249) take their
  default when absent, as the doc's own sample omits them (lines 269-278).
  Runtimes must be positive integers and a device's may not exceed the test's;
  the doc gives no other bound.
- With ``devices`` given, ``device_number`` may be 0 and is not used; without
  it, that many idle devices of the cloud are picked.
- Device and model ids come from disjoint ranges (devices 10001+ / 20001+,
  models 501+ / 601+), so a list mixing the two kinds is recognised (line 252).
- An app runs only on devices of its platform (.apk/.aab Android, .ipa iOS).
- Download URLs (app, icon, script, logs, report) use the reserved host
  ``wetest.emulator.invalid``: the doc defines no endpoint that serves them.
- ``device_state`` / ``device_state_code``: ``idle`` 0, ``testing`` 1,
  ``offline`` 2; ``frame_type_code``: appium 1, game_loop 2; ``test_type``
  ``automation`` / 1; ``pass_rate`` / ``exception_rate`` are ratios in [0, 1].


One job per module: ``seed``, ``vocabulary`` (the doc's codes), ``wire`` (the
envelope), ``submission`` (the test request's rules), ``timeline`` (progress
on the clock), ``results``, ``core`` (lookups), one handler module per area
(``uploads``, ``catalogue``, ``automation``) and ``app`` (the route table).
"""

from providers.wetest.emulator.app import SANDBOX, build_app
from providers.wetest.emulator.seed import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY


__all__ = ["SANDBOX", "SANDBOX_SECRET_ID", "SANDBOX_SECRET_KEY", "build_app"]
