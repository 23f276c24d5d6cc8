"""WeTest CloudTesting REST API emulator (the doc's examples: tests/emulators/wetest_examples.json).

Faithful to the doc: every path under ``/cloudtest/v1`` with its method,
parameters (query, multipart ``data`` / ``file`` parts, JSON body) and the
documented response objects with exactly their keys, all in the ``ret`` /
``msg`` envelope (``ret`` 0 = success, doc line 164). Test status codes (0
testing, 1 finished, 2 canceled, 3 timeout) and per-device ``result_code``
meanings (0 running ... 6 user canceled, lines 315 and 382) are the doc's.
Submit Automation Test refuses only what the doc states: a missing Required
field, a value outside the doc's choices, appium without a script (line 245),
device and model ids mixed (252). What the parameter table only names
("scenarios(Game Loop only)", "resign(iOS only)", 257-259) without stating a
refusal is accepted and not used; refusing it is a variant each.

Where the doc is silent, this emulator takes the most permissive reading; each
other reading is a variant (variants.py), ``build_app(options, "time-iso8601")``:

| choice (default) | doc line it reads | variant |
| --- | --- | --- |
| a refusal is HTTP 200 with a non-zero ``ret`` | "ret": int, "0 for success" (33, 164): only ret 0 is defined | ``errors-http-status`` (400 / 404 / 409 with the envelope) |
| an object that is not there is ``ret`` 1002 | same | ``not-found-ret-404`` |
| each kind of refusal has its ``ret``: 1001 bad parameter, 1002 not found, 1003 wrong state | same | ``one-ret-code`` (every refusal ``ret`` -1) |
| bad credentials: HTTP 401, ``ret`` 1004 | "SecretId:SecretKey" (12-13), no failure shown | ``auth-in-envelope`` (HTTP 200) |
| times are ``YYYY-MM-DD HH:MM:SS`` (UTC) | "start_time": "string" (312, 341, 388, 550 ...) | ``time-iso8601``, ``time-epoch-seconds``, ``time-epoch-millis`` |
| a time not known yet (a running test's ``end_time``) is ``""`` | "end_time": "string" (313, 347) | ``unknown-time-absent`` (the key left out) |
| answers hold the doc's keys only; the upload answer is ``data.fid`` alone | Upload App output (28-34) | ``extra-keys`` (the upload answers the whole app, others a key more) |
| a Required field with a stated default is defaulted when absent | frame_type, max_test_runtime, max_device_runtime "Yes" with "default value" (245-249); the sample omits max_device_runtime (269-278) | ``strict-required`` (refused when absent) |
| without ``devices``, ``device_number`` devices are taken idle first, then busy and offline ones (at most the cloud's) | "device_number: Target device quantity" (251) | ``idle-devices-only`` (fewer when fewer are idle) |
| with ``devices``, ``device_number`` is not used | 251-252 | ``device-number-caps-devices`` (only the first ``device_number``) |
| cancelling a test that has ended answers ``ret`` 0 and changes nothing | Cancel Test (280-294) names no state | ``cancel-ended-refused`` (wrong state) |
| an app on a cloud of the other platform is tested; every device ends in result 2 | result_code "2 for has compatibility error" (382) | ``platform-mismatch-refused`` |
| ``finished`` is true once the test ended (status 1, 2 or 3) | "finished": "whether the task is finished" (311) | ``finished-only-status-1`` |
| ``pass_rate`` / ``exception_rate`` are ratios in [0, 1] | "pass_rate": float (557-558) | ``rates-percent`` |
| a device's ``errors``, ``images`` and log URLs are always in the answer, empty unless asked: the example shows every key (the rule for the default reading: providers/emulation/README.md) | "if parameter error is set to true, return error details" (348, 355, 361); the Output Parameters (334-394, 411-471) | ``details-only-when-asked`` (left out unless asked) |
| ``scenarios`` / ``scenario_labels`` for a test that is not Game Loop are accepted and not used | "scenarios(Game Loop only)", "scenario_labels(Game Loop only)" name the scope, state no refusal (257-258) | ``scenarios-game-loop-only`` (``ret`` 1001) |
| ``resign`` for an app that is not an .ipa is accepted and not used | "resign(iOS only)" names the scope, states no refusal (259) | ``resign-ios-only`` (``ret`` 1001) |
| Get App by hash, the same bytes uploaded twice: the newest upload | hash "app md5 hash" (46) | ``hash-oldest-upload`` |

Fixed values, not readings a client can rely on (so no variants): ids
(devices 10001+ / 20001+ and models 501+ / 601+ are disjoint, so a list mixing
the kinds is recognised, line 252), names, ``msg`` texts, download URLs on the
reserved host ``wetest.emulator.invalid`` (the doc serves none of them), the
vocabulary of ``device_state`` / ``device_state_code`` (idle 0, testing 1,
offline 2), ``frame_type_code`` (appium 1, game_loop 2), ``test_type``
(automation / 1). Runtimes must be positive whole seconds (a time out period);
a ``device_number`` below 1 with no ``devices`` names nothing to test.

One job per module: ``seed``, ``vocabulary`` (the doc's codes), ``variants``,
``wire`` (the envelope and how a refusal and a time are written),
``submission`` (the test request's rules), ``timeline`` (progress on the
clock), ``results``, ``core`` (lookups), one handler module per area
(``uploads``, ``catalogue``, ``automation``) and ``app`` (the route table).
"""

from labform.providers.wetest.emulator.app import SANDBOX, build_app
from labform.providers.wetest.emulator.seed import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY
from labform.providers.wetest.emulator.variants import VARIANTS, Variants

__all__ = ["SANDBOX", "SANDBOX_SECRET_ID", "SANDBOX_SECRET_KEY", "VARIANTS", "Variants", "build_app"]
