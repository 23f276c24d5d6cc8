"""The Bitbar emulator assembled: every handler area, and the route table in the doc's section order."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from labform.providers.bitbar.emulator.auth import AuthHandlers
from labform.providers.bitbar.emulator.device_runs import DeviceRunHandlers
from labform.providers.bitbar.emulator.groups import GroupHandlers
from labform.providers.bitbar.emulator.notifications import NotificationHandlers
from labform.providers.bitbar.emulator.projects import ProjectHandlers
from labform.providers.bitbar.emulator.results import ResultHandlers
from labform.providers.bitbar.emulator.runs import RunHandlers
from labform.providers.bitbar.emulator.seed import SANDBOX_API_KEY
from labform.providers.bitbar.emulator.uploads import FileHandlers
from labform.providers.bitbar.emulator.variants import VARIANTS
from labform.providers.bitbar.emulator.vendor import VendorClientHandlers
from labform.providers.emulation import EmulatorApp, EmulatorEntry, EmulatorOptions, Handler


class BitbarEmulator(
    AuthHandlers,
    ProjectHandlers,
    VendorClientHandlers,
    FileHandlers,
    RunHandlers,
    DeviceRunHandlers,
    ResultHandlers,
    GroupHandlers,
    NotificationHandlers,
):
    """Every documented endpoint, and the vendor client's set (unless its variant is off), wired to its handler."""

    def routes(self) -> list[BaseRoute]:
        me = "/api/v2/me"
        project = f"{me}/projects/{{projectId:int}}"
        run = f"{project}/runs/{{runId:int}}"
        device_run = f"{run}/device-runs/{{deviceRunId:int}}"
        group = f"{me}/device-groups/{{deviceGroupId:int}}"
        table: list[tuple[str, str, Handler]] = [
            # Authorization: the doc's apiKey example, and its /api/v2 twin (where a v2 client asks)
            ("GET", "/api/me", self.get_me),
            ("GET", me, self.get_me),
            # Project basics
            ("POST", f"{me}/projects", self.create_project),
            ("GET", f"{me}/projects", self.list_projects),
            ("GET", project, self.get_project),
            ("POST", project, self.update_project),
            ("DELETE", project, self.delete_project),
            ("GET", f"{project}/icon", self.project_icon),
            # Project config
            ("GET", f"{project}/config", self.get_config),
            ("POST", f"{project}/config", self.update_config),
            ("POST", f"{project}/config/parameters", self.add_parameter),
            ("GET", f"{project}/config/parameters", self.list_parameters),
            ("GET", f"{project}/config/parameters/{{parameterId:int}}", self.get_parameter),
            ("DELETE", f"{project}/config/parameters/{{parameterId:int}}", self.delete_parameter),
            # Project files
            ("POST", f"{project}/files/{{kind}}", self.upload_file),
            ("GET", f"{project}/files/{{kind}}", self.download_file),
            ("GET", f"{project}/files.zip", self.download_files_zip),
            # Project sharing
            ("POST", f"{project}/sharings", self.create_sharing),
            ("GET", f"{project}/sharings", self.list_sharings),
            ("GET", f"{project}/sharings/{{sharingId:int}}", self.get_sharing),
            ("DELETE", f"{project}/sharings/{{sharingId:int}}", self.delete_sharing),
            # Test run basics
            ("POST", f"{project}/runs", self.start_run),
            ("GET", f"{project}/runs", self.list_project_runs),
            ("GET", f"{me}/runs", self.list_my_runs),
            ("GET", run, self.get_run),
            ("POST", run, self.update_run),
            ("DELETE", run, self.delete_run),
            # Test run device runs
            ("GET", f"{run}/device-runs", self.list_device_runs),
            ("GET", device_run, self.get_device_run),
            ("GET", f"{device_run}/junit.xml", self.device_run_junit),
            ("GET", f"{device_run}/logs", self.device_run_logs),
            ("GET", f"{device_run}/performance", self.device_run_performance),
            ("GET", f"{device_run}/states", self.list_states),
            ("GET", f"{device_run}/states/{{stateId:int}}", self.get_state),
            # The templates' paths, and the examples' (under the device run)
            ("GET", f"{run}/screenshots", self.list_screenshots),
            ("GET", f"{run}/screenshots/{{screenshotId:int}}", self.get_screenshot),
            ("GET", f"{device_run}/screenshots", self.list_screenshots),
            ("GET", f"{device_run}/screenshots/{{screenshotId:int}}", self.get_screenshot),
            # Test run config
            ("GET", f"{run}/config", self.get_run_config),
            ("GET", f"{run}/config/parameters", self.list_run_parameters),
            ("GET", f"{run}/config/parameters/{{parameterId:int}}", self.get_run_parameter),
            # Test run files
            ("GET", f"{run}/files/{{kind}}", self.download_run_file),
            ("GET", f"{run}/files.zip", self.download_run_files_zip),
            # Test run tagging
            ("POST", f"{run}/tags", self.create_tag),
            ("GET", f"{run}/tags", self.list_tags),
            ("GET", f"{run}/tags/{{tagId:int}}", self.get_tag),
            ("DELETE", f"{run}/tags/{{tagId:int}}", self.delete_tag),
            # Test run results
            ("GET", f"{run}/reports/{{report}}", self.run_report),
            ("GET", f"{project}/reports/summary", self.project_report),
            ("POST", f"{run}/screenshots.zip", self.request_screenshots_zip),
            ("GET", f"{run}/screenshots.zip", self.get_screenshots_zip),
            # Device groups
            ("POST", f"{me}/device-groups", self.create_group),
            ("GET", f"{me}/device-groups", self.list_groups),
            ("GET", f"{project}/device-groups", self.list_project_groups),
            ("GET", f"{project}/public-device-groups", self.list_project_public_groups),
            ("GET", group, self.get_group),
            ("POST", group, self.update_group),
            ("DELETE", group, self.delete_group),
            ("POST", f"{group}/devices", self.add_group_device),
            ("GET", f"{group}/devices", self.list_group_devices),
            ("DELETE", f"{group}/devices/{{deviceId:int}}", self.remove_group_device),
            # Notifications (the doc's singular /notification/{id} for one of them)
            ("POST", f"{me}/notifications", self.add_my_notification),
            ("POST", f"{project}/notifications", self.add_project_notification),
            ("GET", f"{me}/notifications", self.list_my_notifications),
            ("GET", f"{project}/notifications", self.list_project_notifications),
            ("GET", f"{me}/notification/{{id:int}}", self.get_notification),
            ("POST", f"{me}/notification/{{id:int}}", self.update_notification),
            ("DELETE", f"{me}/notification/{{id:int}}", self.delete_notification),
        ]
        # The vendor-client set (vendor.py): the testdroid 3.2 client's calls the doc lacks
        users = "/api/v2/users/{userId:int}"
        vendor_client: list[tuple[str, str, Handler]] = [
            ("POST", f"{users}/files", self.upload_user_file),
            ("POST", f"{users}/runs", self.start_user_run),
            ("POST", f"{run}/retry", self.retry_run),
            ("POST", f"{run}/abort", self.abort_run),
        ]
        if self.variants.vendor_client:
            table += vendor_client
        public: list[tuple[str, str, Handler]] = [
            ("GET", "/oauth/token", self.oauth_token),
            ("POST", "/oauth/token", self.oauth_token),
            ("GET", "/api/v2/devices", self.list_devices),
        ]
        return [
            Route(path, self.guard(handler, public=is_public), methods=[method])
            for is_public, endpoints in ((False, table), (True, public))
            for method, path, handler in endpoints
        ]


def build_app(options: EmulatorOptions | None = None, variant: str = "default") -> EmulatorApp:
    """The Bitbar emulator reading the doc as ``variant`` (a key of ``VARIANTS``); see the package docstring."""
    return BitbarEmulator(options or EmulatorOptions(), VARIANTS[variant]).app()


SANDBOX = EmulatorEntry(
    build_app=build_app, provider_settings=lambda url: {"endpoint": url, "api_key": SANDBOX_API_KEY}
)
