"""The one name of a provider in machine-readable output: ``labform.dev/labform/<provider>``.

Terraform names a provider by its source address, hostname/namespace/type
(``registry.terraform.io/hashicorp/aws``), in ``plan -json``'s ``provider_name``,
``providers schema -json`` and ``version -json``'s ``provider_selections``;
tools key on that string. labform's clouds ship inside labform, so they sit
under labform's own hostname and namespace, and every output spells them
with this function alone.
"""

from __future__ import annotations

HOSTNAME = "labform.dev"
NAMESPACE = "labform"


def provider_address(provider: str) -> str:
    """``bitbar`` → ``labform.dev/labform/bitbar``."""
    return f"{HOSTNAME}/{NAMESPACE}/{provider}"
