"""kyaraben plans and files for the tests; the ``kyaraben`` fixture is in tests/fixtures/clouds.py."""

from __future__ import annotations

from pathlib import Path

from tests.apps import build_apk, text_manifest
from tests.conftest import state_of

KYARABEN_PROVIDER = """providers:
  kyaraben:
    endpoint: ${env.KYARABEN_URL}
    auth_value: ${env.KYARABEN_AUTH_VALUE}
    wait_timeout: ${env.KYARABEN_WAIT:-60s}
    poll: 0.2s
"""

DSL = """Feature: "Checkout"
   Scenario: "Pay"
      Take a screenshot
   End
   Scenario: "Refund"
      Set battery level at 1
   End
End
"""


def write_apk(folder: Path, name: str = "app.apk", package: str = "com.labform.sample", version: str = "1.0") -> Path:
    path = folder / name
    path.write_bytes(build_apk(text_manifest(package, version)))
    return path


def write_dsl(folder: Path, name: str = "checkout.aic", text: str = DSL) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def resources_of(workdir) -> dict:
    return state_of(workdir)["resources"]


# A project and an apk (APP is replaced by a file path): the start of the plans below.
PROJECT_WITH_APK = (
    KYARABEN_PROVIDER
    + """
resources:
  kyaraben_project.lab:
    project_name: lab
  kyaraben_apk.app:
    project: ${kyaraben_project.lab.id}
    path: APP
"""
)

# A project with an apk, a compiled test source and a VM the apk is installed on;
# APP and DSL are replaced by file paths.
LAB = (
    PROJECT_WITH_APK
    + """  kyaraben_testsource.checkout:
    project: ${kyaraben_project.lab.id}
    path: DSL
    compile: true
  kyaraben_avm.phone:
    project: ${kyaraben_project.lab.id}
    image: lollipop-phone
    avm_name: phone
    hwconfig: {width: 800, height: 600, enable_gps: 1}
    apks: ["${kyaraben_apk.app.id}"]
"""
)

# A campaign over the lab's apks; RUN_OPTIONS is replaced by its wait/gate/junit lines.
CAMPAIGN = """
  kyaraben_campaign.smoke:
    project: ${kyaraben_project.lab.id}
    tests:
      - image: kitkat-tablet
        apks: ["${kyaraben_apk.app.id}", "${kyaraben_testsource.checkout.apk_id}"]
        packages: [com.labform.sample]
      - image: lollipop-phone
        hwconfig: {width: 800, height: 600}
        apks: ["${kyaraben_apk.app.id}", "${kyaraben_testsource.checkout.apk_id}"]
    triggers: ["${kyaraben_apk.app.sha256}", "${kyaraben_testsource.checkout.sha256}"]
    RUN_OPTIONS
"""

WAIT = "wait: {timeout: 60s, poll: 0.2s}"


def write_lab(
    workdir,
    campaign: str | None = None,
    app_version: str = "1.0",
    extra: str = "",
    replace: dict[str, str] | None = None,
) -> Path:
    """The lab plan (with a campaign whose options are ``campaign``) and its files, in ``workdir``."""
    app = write_apk(workdir.path, version=app_version)
    dsl = write_dsl(workdir.path)
    text = (
        LAB
        + (CAMPAIGN.replace("RUN_OPTIONS", campaign.replace("\n", "\n    ")) if campaign is not None else "")
        + extra
    )
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return workdir.write(text.replace("APP", str(app)).replace("DSL", str(dsl)))
