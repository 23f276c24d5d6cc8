"""Bitbar Testing API v2 emulator (the doc's examples: tests/emulators/bitbar_examples.json).

Faithful to the doc: every documented path and method (the 74 ``bitbar`` rows of
``endpoints.tsv``, plus ``GET /api/me`` of its apiKey example), the status code
each endpoint lists (201 create, 202 update, 204 delete, 201 for a config
update, 200 for a config-parameter delete and for a project notification ...),
the object shapes (``project``, ``projectConfig``, ``testRun``, ``deviceRun``,
``state`` ...), the ``list`` envelope (``next``, ``previous``, ``data``,
``offset``, ``limit``, ``total``, ``search``, ``sort``, ``empty``), the
``error`` object ``{statusCode, message}``, XML unless the client sends
``Accept: application/json``, OAuth2 password and refresh_token grants with the
access token in the URL (the doc's way) or a Bearer header, the API key as HTTP
Basic user, and ``/api/v2/devices`` answering without auth. It refuses only with
a status the endpoint's table lists.

Beside the doc, the vendor-client set (``vendor.py``; the ``bitbar/vendor-client``
rows of ``endpoints.tsv``, each naming the function of the official ``testdroid``
3.2 client that calls it): upload to ``users/{id}/files``, a run started through
``users/{id}/runs``, ``runs/{runId}/retry`` and ``runs/{runId}/abort``. They act on
the doc's objects (the run is the doc's run of the project; a retry re-runs the
named device runs under their ids; an abort FINISHES the run, its unfinished
device runs FAILED with ``interruptedByState``, as the doc's deviceRun has no
aborted status). Served by default; the ``no-vendor-client`` variant answers 404.

Where the doc is silent or contradicts itself, this emulator decides, and says so;
``variants.VARIANTS`` names the other readings (``build_app(options, "no-extra-keys")``):

| choice (default reading) | doc line it reads | variant |
| --- | --- | --- |
| an access token is taken from ``?access_token=`` and from ``Authorization: Bearer`` | 25 "API v2 uses OAuth 2.0"; 102 (and each section) "put your access_token to HTTP request URL" | ``token-in-url-only``, ``token-in-header-only`` |
| every object has its example's keys and its table's (a config parameter the table's ``projectId`` beside the example's ``id``; an iOS fileTest the table's iOS-only ``bundleName`` / ``bundleIdentifier``); beyond them testRun carries ``projectId``, ``startTime``, ``endTime``, ``deviceRunCount`` (later Bitbar APIs have them) and a device ``locked`` (false; the testdroid client's device listings read it) | 3933-3946 projectConfigParameter; 3732-3758 fileTest; 4071-4106 testRun; 3581-3625 device | ``no-extra-keys``: every object cut to its example's and table's keys |
| any ``limit`` is honoured; ``limit=0`` is every item (how Bitbar clients list all) | 296 "limit Number no Result limit", 3766 "(by default 20)" | ``limit-capped``: a limit above the default page size is cut to it (``limit=0`` stays all) |
| a field a table marks Required but the endpoint's example leaves out is optional: a run's ``name`` (default ``Test run N``), a device group update's ``osType`` / ``name`` | 1208 vs the example at 1230; 2961 vs 2986 | ``required-as-tables``: 400 without them |
| a refresh grant answers ``token_type`` "bearer" and the same refresh token, as the doc's example | 60-61 (table: "refresh") vs the example at 88-96 | ``refreshed-token-type-refresh`` |
| 409 "Resource exists" on creating a project whose name is taken; renaming onto it is 400 (the update lists no 409) | 128 | ``project-names-repeat``: names may repeat |
| POST parameters come from the query string or an x-www-form-urlencoded body (the body wins) | the tables' "Request body" vs the examples' query strings (e.g. 143) | ``post-params-in-body-only`` (the tables' reading; not query-only: labform keeps values such as passwords out of URLs) |
| ``sort`` is ``<field>``, ``<field>_a`` or ``<field>_d`` on a scalar field (``name``: the list's name-like field); a sort naming no such field is ignored, never 400 | 298 "sort ... Filter: Sort by" (no syntax, no 400) | - |
| ``search`` is a case-insensitive substring of the list's name-like field (``displayName``, ``name``, ``key``, ``email`` ...) | 297 "search ... Filter: Search for" | - |
| an ``offset`` / ``limit`` that is not a whole number reads as its default; without ``sort`` lists are in id order; ``next`` / ``previous`` are absolute URLs | 295-296, 3533 example's ``next`` | - |
| a run always starts (the table lists no 400); in a project lacking what its mode needs (an application; a test file in FULL_RUN / UIAUTOMATOR; uiAutomatorTestClasses) every device run is EXCLUDED, its state naming what was missing; on an empty device group the run is FINISHED at once, ratios 0. ``projectConfig.runAvailable`` says so beforehand | 1198-1222; 3672 "EXCLUDED Excluded automatically by the system" | - |
| any share e-mail is taken (the table lists no 400), the owner's too; it gets a user id on first use (no user directory here) | 1019-1040 | - |
| 409 also for a config parameter key in a project, a share e-mail in a project, a tag name on a run, a device already in a group, a notification for the same e-mail and project (its type changes with an update) | 561, 1037, 2272, 3058, 3193, 3241 | - |
| a required parameter missing or not of its type is 400 even where the table lists none (a report's ``type``) | 2434-2460 | - |
| one account: objects of another project or run answer 404, like unknown ids; public device groups read through ``/me/device-groups/{id}``, changing one is 403 | 126-127 (403 and 404 listed everywhere) | - |
| ``GET /api/me`` and ``GET /api/v2/me`` answer the caller ``{id, email, firstName, lastName}`` (the doc shows no body) | 19 | - |
| screenshots are served at the templates' ``runs/{runId}/screenshots[/{id}]`` and the examples' ``device-runs/{deviceRunId}/screenshots[/{id}]``; Get screenshot with ``Accept: image/png`` answers the image | 1721-1830 | - |
| ``screenshots.zip`` before its state is READY answers 404; generation takes ``0.1 * job_duration`` | 2613-2690, 4088-4093 | - |
| reports honour ``type`` (CSV text, a small valid PDF, a ZIP holding ``index.html``); ``preview=true`` keeps the first 10 rows | 2434-2607 | - |
| successRatio / executionRatio are shares of the run's devices, null while WAITING | 4080-4083 | - |
| ``/oauth/token`` answers JSON whatever the Accept header; routing errors answer the ``error`` object | 1, 3696-3712 | - |
| uploads are stored as files; a data file must be a ZIP; a test file's ``packageName`` / ``bundleIdentifier`` is read from the archive, else derived from the file name; the icon needs an application (404 before) | 338, 809 | - |
| deleting a device group moves projects that used it to "Free devices" | 416 "(by default Free devices group id)" | - |
| the vendor-client set is served (the official client calls it; the doc lists none of it); an abort ends a run FINISHED (the state's only end), its unfinished device runs FAILED and interrupted; retry and abort answer 202 and the doc's testRun, as the doc's updates of a run | 4086-4090 testRun state; 3668-3675 deviceRun interruptedByState, runStatus; 1310 a run update answers 202 | ``no-vendor-client``: 404 |

One job per module: ``seed`` (the account and device catalogue), ``vocabulary``
(the doc's enumerations), ``variants`` (the readings above), ``errors`` /
``wire`` / ``listing`` (how Bitbar answers), ``timing`` (the run clock),
``files`` (reports and archives), ``config_fields``, ``core`` / ``views``
(records and the doc's objects), one handler module per area of the doc,
``vendor`` (the vendor-client set), and ``app`` (the route table).
"""

from labform.providers.bitbar.emulator.app import SANDBOX, build_app
from labform.providers.bitbar.emulator.auth import AUTH_REQUIRED, OAUTH_CLIENT_ID
from labform.providers.bitbar.emulator.seed import SANDBOX_API_KEY, SANDBOX_PASSWORD, SANDBOX_USERNAME
from labform.providers.bitbar.emulator.variants import VARIANTS, Variants

__all__ = [
    "AUTH_REQUIRED",
    "OAUTH_CLIENT_ID",
    "SANDBOX",
    "SANDBOX_API_KEY",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERNAME",
    "VARIANTS",
    "Variants",
    "build_app",
]
