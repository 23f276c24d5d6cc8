"""The readings of the Bitbar doc where it is silent or contradicts itself, one field each, and whether the
vendor client's endpoints beyond it are served (how doc variants work: providers/emulation/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class Variants:
    # Where an OAuth2 access token is taken from: the URL (?access_token=, the doc's "put your
    # access_token to HTTP request URL"), an Authorization: Bearer header (OAuth 2.0), or either.
    token_in: Literal["url_or_header", "url", "header"] = "url_or_header"
    # testRun's projectId/startTime/endTime/deviceRunCount and a device's locked: kept, or every
    # object cut to the keys of the doc's example and table of it.
    extra_keys: bool = True
    # "limit — Result limit": any limit is honoured, or one above the default page size is cut to it.
    max_limit: Literal["any", "page_size"] = "any"
    # A field a table marks Required that the endpoint's own example leaves out (a run's name, a
    # device group update's osType): optional, or required as the table says.
    required: Literal["as_examples", "as_tables"] = "as_examples"
    # A refresh grant's token_type: the example's "bearer", or the table's "refresh".
    refreshed_token_type: Literal["bearer", "refresh"] = "bearer"
    # 409 "Resource exists" on creating a project: for a name in use, or never (names may repeat).
    unique_project_names: bool = True
    # POST parameters: the examples' query string or the tables' "Request body", or the body only.
    post_params: Literal["query_or_body", "body"] = "query_or_body"
    # The endpoints the official testdroid 3.2 client calls that the doc lacks (vendor.py): served,
    # or not (404, as any unknown path).
    vendor_client: bool = True


DEFAULT = Variants()
VARIANTS: dict[str, Variants] = {
    "default": DEFAULT,
    "token-in-url-only": replace(DEFAULT, token_in="url"),
    "token-in-header-only": replace(DEFAULT, token_in="header"),
    "no-extra-keys": replace(DEFAULT, extra_keys=False),
    "limit-capped": replace(DEFAULT, max_limit="page_size"),
    "required-as-tables": replace(DEFAULT, required="as_tables"),
    "refreshed-token-type-refresh": replace(DEFAULT, refreshed_token_type="refresh"),
    "project-names-repeat": replace(DEFAULT, unique_project_names=False),
    "post-params-in-body-only": replace(DEFAULT, post_params="body"),
    "no-vendor-client": replace(DEFAULT, vendor_client=False),
}
