"""Bitbar Testing API v2 emulator (shared/api-docs/bitbar-testing-api-v2.txt).

Faithful to the doc: every documented path and method (the 74 ``bitbar`` rows of
``endpoints.tsv``), the status code each endpoint lists (201 create, 202 update,
204 delete, 201 for a config update, 200 for a config-parameter delete and for a
project notification ...), the object shapes (``project``, ``projectConfig``,
``testRun``, ``deviceRun``, ``state`` ...), the ``list`` envelope (``next``,
``previous``, ``data``, ``offset``, ``limit``, ``total``, ``search``, ``sort``,
``empty``), the ``error`` object ``{statusCode, message}``, XML unless the client
sends ``Accept: application/json``, OAuth2 password and refresh_token grants,
the API key as HTTP Basic user, and ``/api/v2/devices`` answering without auth.

Where the doc is silent or contradicts itself, this emulator decides, and says so:

- One account: every ``/me`` object belongs to the seeded user (``USER_ID``).
  Objects of another project or run answer 404, like unknown ids. Public device
  groups can be read through ``/me/device-groups/{id}`` but changing one is 403.
  A share's e-mail gets a user id on first use (no user directory here).
- 409 "Resource exists": a project name (create), a config parameter key in a
  project, a share e-mail in a project, a tag name on a run, a device already in
  a group, a notification for the same e-mail and project (its type is changed
  with an update, not by adding a second one). Renaming a project onto an
  existing name is 400: the update endpoint lists no 409.
- Parameters come from the query string or an x-www-form-urlencoded body (the
  body wins): the doc's examples use the query, real clients send forms.
- A run's ``name`` is optional (default ``Test run N``) although the table says
  required: the doc's own example starts a run without one. Starting a run
  needs an application (and, in FULL_RUN and UIAUTOMATOR modes, a test file;
  in UIAUTOMATOR mode ``uiAutomatorTestClasses``) and a non-empty device group,
  else 400; ``projectConfig.runAvailable`` says the same in advance.
- ``testRun`` also carries ``projectId``, ``startTime``, ``endTime`` and
  ``deviceRunCount`` (later Bitbar APIs have them; the v2 table does not).
  ``successRatio`` / ``executionRatio`` are shares of the run's devices, as the
  doc words them, null while the run is WAITING.
- A refresh answers ``token_type`` "bearer" and the same refresh token, as the
  doc's example does (its table says "refresh"). ``/oauth/token`` answers JSON
  whatever the Accept header, like any OAuth2 server.
- Product rule, not Bitbar's: an ``access_token`` in the URL query is refused
  with 401 although the doc's notes say to put it there. Tokens travel only in
  headers, where proxies and logs do not keep them.
- Get screenshot answers the ``screenshot`` object; with ``Accept: image/png``
  it answers the image itself (the doc has no other way to fetch one).
  ``screenshots.zip`` before its state is READY answers 404 (the only
  documented failure); generation takes ``0.1 * job_duration``.
- Reports honour ``type`` (CSV text, a small valid PDF, a ZIP holding
  ``index.html``); ``preview=true`` keeps the first 10 rows.
- ``search`` is a case-insensitive substring match on the listed objects'
  name-like field (``displayName``, ``name``, ``key``, ``email``,
  ``userEmail``, ``originalName``, ...). ``sort`` is ``<field>_a`` or
  ``<field>_d`` on any scalar field; ``name`` means that name-like field.
  Without ``sort``, lists are in ascending id order.
- Uploads are stored as files (never in the JSON store); a data file must be a
  ZIP (the doc says so); a test file's ``packageName`` / ``bundleIdentifier``
  is read from the archive when it can be, else derived from the file name.
- Deleting a device group moves projects that used it to "Free devices".

One job per module: ``seed`` (the account and device catalogue), ``vocabulary``
(the doc's enumerations), ``errors`` / ``wire`` / ``listing`` (how Bitbar
answers), ``timing`` (the run clock), ``files`` (reports and archives),
``config_fields``, ``core`` / ``views`` (records and the doc's objects), one
handler module per area of the doc, and ``app`` (the route table).
"""

from providers.bitbar.emulator.app import SANDBOX, build_app
from providers.bitbar.emulator.auth import AUTH_REQUIRED, OAUTH_CLIENT_ID
from providers.bitbar.emulator.seed import SANDBOX_API_KEY, SANDBOX_PASSWORD, SANDBOX_USERNAME


__all__ = [
    "AUTH_REQUIRED",
    "OAUTH_CLIENT_ID",
    "SANDBOX",
    "SANDBOX_API_KEY",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERNAME",
    "build_app",
]
