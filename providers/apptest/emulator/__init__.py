"""apptest.ai openapi v2 emulator (shared/api-docs/apptestai-openapi-v2.md).

Faithful to the doc: the three endpoints under ``/openapi/v2/testset``, HTTP
Basic ``user_id:access_key``, the multipart request (an ``app_file`` part and a
JSON ``data`` part), the ``{"data", "result_code", "result_msg", "reason"}``
envelope, the result codes and their messages (worded as in the Appendix,
lines 271-294, where it and the per-endpoint tables differ), ``Running`` /
``Complete`` with the detail counts, and a JUnit ``result_xml`` shaped like the
doc's example (lines 249-259).

Where the doc is silent or loose, this emulator decides, and says so:

- Every documented result code is answered with HTTP 200 (the doc pairs each
  error with a body code only). Bad credentials, which the doc does not cover,
  get HTTP 401 with ``result_code`` 401 in the same envelope.
- ``data`` fields: ``pid`` and ``testset_name`` are required (4000); ``app_file``
  missing is 4051. ``time_limit`` (the doc's table spells it ``time_limmit``,
  line 41, its example ``time_limit``, line 56: both are read, ``time_limit``
  first), ``use_vo``, ``callback`` and ``credentials`` are optional: the doc's
  own example omits ``callback`` and says an empty time limit falls back to the
  project's setting.
- The doc gives bounds (time limit 5-30 minutes, name 100, callback 250,
  login id / password 150 characters) but no code for breaking them, nor for
  a ``data`` part that is not JSON. They answer 5001, the doc's catch-all of
  Run New Testset ("Global Exception Error – ...").
- Unknown testset id: 4053 on the status endpoint, 6003 on the result endpoint
  (the only not-found code of its table, line 268).
- An empty ``app_file`` is 6001 (nothing was uploaded). The app analysis codes
  come from ``inspect_app``: not a zip or no manifest / Info.plist 4032,
  unreadable manifest 4040, no LAUNCHER category 4041, unreadable Info.plist
  4030, an IPA without a development provisioning profile 4031.
- 5002 / 5003 are server faults no input can cause; they are not produced.
- 8000 (maintenance) is switched by ``set_maintenance(app, True)`` or, over
  HTTP, ``POST /_emulator/maintenance?on=1`` (``on=0`` to end it); it is kept
  in the store, and while on every endpoint answers 8000.
- The callback URL is recorded, not called (the emulator makes no outbound
  requests). Result page links use the reserved host ``apptest.emulator.invalid``.
- ``result_msg`` is ``""`` on success (the result example's ``0``, line 232,
  reads as a slip).


One job per module: ``seed``, ``wire`` (envelope and result codes),
``new_testset`` (the request's ``data`` part), ``timeline``, ``reports``
(result documents) and ``app`` (handlers and routes).
"""

from providers.apptest.emulator.app import SANDBOX, build_app, set_maintenance
from providers.apptest.emulator.seed import SANDBOX_ACCESS_KEY, SANDBOX_PROJECTS, SANDBOX_USER_ID
from providers.apptest.emulator.wire import RESULT_CODES


__all__ = ["RESULT_CODES", "SANDBOX", "SANDBOX_ACCESS_KEY", "SANDBOX_PROJECTS", "SANDBOX_USER_ID", "build_app", "set_maintenance"]
