"""apptest.ai openapi v2 emulator (the doc's examples: tests/emulators/apptest_examples.json).

Faithful to the doc: the three endpoints under ``/openapi/v2/testset``, HTTP
Basic ``user_id:access_key``, the multipart request (an ``app_file`` part and a
JSON ``data`` part), the ``{"data", "result_code", "result_msg", "reason"}``
envelope, the result codes and their messages (worded as in the Appendix,
lines 271-294, where it and the per-endpoint tables differ), ``Running`` /
``Complete`` with the detail counts, answers with exactly the doc's keys, and
a JUnit ``result_xml`` shaped like the doc's example (lines 249-259). Every
documented code is answered with HTTP 200 (the doc pairs each with a body
code only). The app analysis codes follow the doc's reasons: not a zip or no
manifest / Info.plist 4032, unreadable manifest 4040, no LAUNCHER category
4041, unreadable Info.plist 4030, an IPA without a development provisioning
profile 4031; a platform the project's devices lack 4055; a project without
a device preset 4080, without an available device 4081.

Where the doc is silent or contradicts itself, this emulator takes the most
permissive reading; each other reading is a variant (variants.py),
``build_app(options, "strict-required")``:

| choice (default) | doc line it reads | variant |
| --- | --- | --- |
| only ``pid`` and ``testset_name`` must be in ``data`` (4000); ``time_limit``, ``use_vo``, ``callback``, ``credentials`` may be left out | the table marks every key Required (39-45), yet the example omits ``callback`` (53-62) and an empty time limit "follows the project's setting" (41) | ``strict-required`` (every key of the table, blank allowed) |
| the time limit is read as ``time_limit`` or ``time_limmit`` (``time_limit`` first) | table ``time_limmit`` (41), example ``time_limit`` (56) | ``time-limit-only``, ``time-limmit-only`` |
| keys of ``data`` the table does not list are ignored | the table (37-45) | ``unknown-keys-refused`` (5001) |
| a broken bound (name 100, callback 250, login id / password 150 characters, time limit 5-30) or a ``data`` that is not JSON is 5001 | bounds given (40-45), no code for breaking them; 5001 "Global Exception Error" (103) | ``bounds-unchecked`` (the bounds are accepted as given) |
| an empty ``app_file`` is 6001 | 6001 "App file upload fail." (104); 4032 "Invalid app file" (93) | ``empty-app-4032`` |
| the status of a testset the account lacks (or a malformed id) is 4053, as two places of the doc agree (the rule for the default reading: providers/emulation/README.md); its result stays 6003, the result table's own code | 4053 "Invalid request parameter : (testset_id ...)" in the Run New Testset table (99) and the Appendix (284); status table: 5002 "Global Exception Error", 8000 only (177-180); result table: 6003 "Test data does not exist." (268) | ``unknown-status-5002`` |
| ``result_msg`` of a success is ``""``, and ``0`` on the result endpoint, as each example writes it | ``""`` (81, 170), ``0`` (232) | ``result-msg-empty`` (``""`` everywhere) |
| answers hold the doc's keys only | the response tables (67-70, 137-150, 214-219) | ``extra-keys`` |
| bad credentials (which the doc does not cover): HTTP 401 with ``result_code`` 401 in the envelope | "Authorization : Basic {user_id}:{access_key}" (26) | ``auth-in-envelope`` (HTTP 200) |
| every documented code comes with HTTP 200 | each code is paired with a body code only | none: labform's shared HTTP layer reports an HTTP error's status, not its envelope's code, so a server answering 5002 / 8000 / 6002 as HTTP 5xx / 4xx needs a change there first |

Contradictions read one way, where the other reading is no working server
(so no variant): the result's ``result_xml`` / ``result_html`` /
``result_json`` are strings (line 242-244 and the XML example), not the
Booleans of line 217-219; the ``Authorization`` header is accepted as base64
(what the examples' ``curl --user`` sends) and as the raw pair line 26 writes.

Emulator machinery, not readings: 8000 (maintenance) is switched by
``set_maintenance(app, True)`` or ``POST /_emulator/maintenance?on=1``
(``on=0`` ends it), and while on every endpoint answers 8000; a testset's
data is lost by ``forget_testset(app, id)`` or ``DELETE
/_emulator/testsets/{id}`` (the doc has no delete call); the callback URL is
recorded, never called (no outbound requests); result page links use the
reserved host ``apptest.emulator.invalid``; 5003 is a server fault no input
causes, so it is not produced.

One job per module: ``seed``, ``wire`` (envelope and result codes),
``variants``, ``new_testset`` (the request's ``data`` part), ``timeline``,
``reports`` (result documents) and ``app`` (handlers and routes).
"""

from labform.providers.apptest.emulator.app import SANDBOX, build_app, forget_testset, set_maintenance
from labform.providers.apptest.emulator.seed import SANDBOX_ACCESS_KEY, SANDBOX_PROJECTS, SANDBOX_USER_ID
from labform.providers.apptest.emulator.variants import VARIANTS, Variants
from labform.providers.apptest.emulator.wire import RESULT_CODES

__all__ = [
    "RESULT_CODES",
    "SANDBOX",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_PROJECTS",
    "SANDBOX_USER_ID",
    "VARIANTS",
    "Variants",
    "build_app",
    "forget_testset",
    "set_maintenance",
]
