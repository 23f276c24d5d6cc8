"""Bitbar projects, project configs, config parameters, device groups, project sharings and e-mail notifications."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterable
from typing import Any, Literal

from labform.providers.base import Arguments, Attrs, ResourceType, arg
from labform.providers.bitbar.admission import GroupPick
from labform.providers.bitbar.client import ME, listing
from labform.providers.bitbar.client import client_of as _client
from labform.providers.bitbar.client import project_path as _project_path
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.mapping import FieldMap


def _first_named(items: Iterable[dict[str, Any]], field: str, value: Any) -> dict[str, Any] | None:
    return next((item for item in items if item.get(field) == value), None)


def _search(name: str | None) -> dict[str, str]:
    """The list endpoints' ``search`` filter for a name look-up, so its cost is the page(s) of matches,
    not the whole shared account. The doc says only "Search for": read as a contains filter at most,
    whose answer callers still compare by the exact name. Used for projects, whose one name is
    what a search can mean."""
    return {} if name is None else {"search": name}


# --- bitbar_project -------------------------------------------------------
class ProjectArgs(Arguments):
    name: str = arg(description="Project name (also how an existing project is recognised).", min_length=1)
    type: Literal["ANDROID", "CTS", "IOS", "UIAUTOMATOR"] = arg(
        force_new=True, description="Project type; cannot change after creation."
    )
    description: str | None = arg(None, description="Free text shown with the project.")
    common: bool | None = arg(None, description="Available to anyone.")


PROJECT_FIELDS = FieldMap(
    id="id", name="name", type="type", description="description", common="common", shared_by_id="sharedById"
)


class Project(ResourceType):
    """A Bitbar project; a new type replaces it."""

    type_name = "bitbar_project"
    Args = ProjectArgs
    computed = ("id", "shared_by_id")
    natural_key = ("name",)

    def read(self, ctx, id, prior):
        return PROJECT_FIELDS.attrs(_client(ctx).get(_project_path(id), "read project"))

    def list_scope(self, attrs):
        return ("projects",)

    def list(self, ctx, scope):
        """``("projects",)``: every project; ``("projects", NAME)``: those the search for NAME answers."""
        search = _search(scope[1] if len(scope) > 1 else None)
        return (PROJECT_FIELDS.attrs(item) for item in listing(ctx, f"{ME}/projects", "list projects", **search))

    def create(self, ctx, desired):
        created = _client(ctx).post(
            f"{ME}/projects", "create project", PROJECT_FIELDS.params(desired, {"name", "type"})
        )
        extra = PROJECT_FIELDS.params(desired, {"description", "common"})
        if extra:
            # In state from here on: a failed second step is an update the next plan shows.
            ctx.record(PROJECT_FIELDS.attrs(created))
            created = _client(ctx).post(_project_path(created["id"]), "update project", extra, idempotent=True)
        return PROJECT_FIELDS.attrs(created)

    def update(self, ctx, id, desired, actual):
        params = PROJECT_FIELDS.params(desired, {"name", "description", "common"})
        return PROJECT_FIELDS.attrs(_client(ctx).post(_project_path(id), "update project", params, idempotent=True))

    def delete(self, ctx, id, actual):
        _client(ctx).delete(_project_path(id), "delete project")

    def find_existing(self, ctx, desired):
        return _first_named(self.listed(ctx, ("projects", desired["name"])), "name", desired["name"])


# --- bitbar_project_config ------------------------------------------------
class ProjectConfigArgs(Arguments):
    project: int = arg(force_new=True, description="Project id; a project has exactly one config.")
    scheduler: Literal["PARALLEL", "SERIAL"] | None = arg(
        None, description="How the devices run: PARALLEL (all at once) or SERIAL (one after another)."
    )
    mode: Literal["FULL_RUN", "APP_CRAWLER", "CTS", "UIAUTOMATOR", "IOS"] | None = arg(
        None,
        description="What a run does: FULL_RUN (the uploaded tests), APP_CRAWLER (explores the app without tests), CTS, UIAUTOMATOR or IOS.",
    )
    auto_screenshots: bool | None = arg(None, description="Take screenshots automatically during the tests.")
    screenshot_dir: str | None = arg(None, description="Folder on the device where the tests save screenshots.")
    limitation_type: Literal["PACKAGE", "CLASS"] | None = arg(
        None, description="Run only some tests: those of a PACKAGE or a CLASS, named by limitation_value."
    )
    limitation_value: str | None = arg(None, description="The package or class limitation_type selects.")
    with_annotation: str | None = arg(
        None, description="Run only tests carrying this annotation (fully qualified name)."
    )
    without_annotation: str | None = arg(
        None, description="Leave out tests carrying this annotation (fully qualified name)."
    )
    application_username: str | None = arg(None, description="User name the tests sign in to the app with.")
    application_password: str | None = arg(
        None, sensitive=True, description="Password the tests sign in to the app with."
    )
    used_device_group: int | None = arg(None, description="Device group id the runs use.")
    device_language_code: str | None = arg(
        None, pattern=r"^[a-z]{2}_[A-Z]{2}$", description="Device locale during runs, xx_YY (e.g. en_US)."
    )
    hook_url: str | None = arg(None, description="http(s) URL Bitbar calls when a run finishes.")
    ui_automator_test_classes: str | None = arg(None, description="UI Automator test classes to run.")
    launch_app: bool | None = arg(None, description="Launch the app before the tests start.")
    instrumentation_runner: str | None = arg(None, description="Instrumentation runner class of the test apk.")
    check_app: bool | None = arg(None, description="Let Bitbar check the app (installs, starts) before testing it.")


CONFIG_FIELDS = FieldMap(
    id="id",
    project="projectId",
    scheduler="scheduler",
    mode="mode",
    auto_screenshots="autoScreenshots",
    screenshot_dir="screenshotDir",
    limitation_type="limitationType",
    limitation_value="limitationValue",
    with_annotation="withAnnotation",
    without_annotation="withoutAnnotation",
    application_username="applicationUsername",
    application_password="applicationPassword",
    used_device_group="usedDeviceGroupId",
    device_language_code="deviceLanguageCode",
    hook_url="hookURL",
    ui_automator_test_classes="uiAutomatorTestClasses",
    launch_app="launchApp",
    instrumentation_runner="instrumentationRunner",
    check_app="checkApp",
    credits_price="creditsPrice",
    run_available="runAvailable",
)
_CONFIG_ARGS = set(ProjectConfigArgs.model_fields) - {"project"}


class PricedDevices(ResourceType):
    """A device set the doc prices: its recorded ``creditsPrice`` is a minute of all its devices."""

    def credits_price(self, attrs: Attrs) -> float | None:
        price = attrs.get("credits_price")
        return float(price) if isinstance(price, int | float) and not isinstance(price, bool) else None


class ProjectConfig(PricedDevices):
    """The project's single config: create and update are the same call; destroy only forgets."""

    type_name = "bitbar_project_config"
    Args = ProjectConfigArgs
    create_replaces = True  # the project's one config, written whole
    computed = ("id", "credits_price", "run_available")

    def read(self, ctx, id, prior):
        return CONFIG_FIELDS.attrs(_client(ctx).get(f"{_project_path(prior['project'])}/config", "read project config"))

    def create(self, ctx, desired):
        return self._write(ctx, desired)

    def update(self, ctx, id, desired, actual):
        return self._write(ctx, desired)

    def _write(self, ctx, desired):
        path = f"{_project_path(desired['project'])}/config"
        return CONFIG_FIELDS.attrs(
            _client(ctx).post(
                path, "update project config", CONFIG_FIELDS.params(desired, _CONFIG_ARGS), idempotent=True
            )
        )

    def delete(self, ctx, id, actual):
        """Bitbar has no way to delete a config; labform just stops managing it."""

    def import_(self, ctx, id):
        # A config is addressed by its project: import it with the project id.
        return CONFIG_FIELDS.attrs(_client(ctx).get(f"{_project_path(id)}/config", "import project config"))


# --- bitbar_config_parameter ----------------------------------------------
class ConfigParameterArgs(Arguments):
    project: int = arg(force_new=True, description="Project id, e.g. ${bitbar_project.NAME.id}.")
    key: str = arg(force_new=True, min_length=1, description="Parameter name; a new name replaces the parameter.")
    value: str = arg(force_new=True, description="No update endpoint exists, so a new value replaces the parameter.")


PARAMETER_FIELDS = FieldMap(id="id", key="key", value="value")


class ConfigParameter(ResourceType):
    """A user-defined key/value parameter of a project's config; any change replaces it."""

    type_name = "bitbar_config_parameter"
    Args = ConfigParameterArgs
    natural_key = ("project", "key")

    @staticmethod
    def _path(project: Any) -> str:
        return f"{_project_path(project)}/config/parameters"

    def read(self, ctx, id, prior):
        found = _client(ctx).get(f"{self._path(prior['project'])}/{id}", "read config parameter")
        return {**PARAMETER_FIELDS.attrs(found), "project": prior["project"]}

    def list_scope(self, attrs):
        return ("project", attrs["project"])

    def list(self, ctx, scope):
        project = scope[1]
        for item in listing(ctx, self._path(project), "list config parameters"):
            yield {**PARAMETER_FIELDS.attrs(item), "project": project}

    def create(self, ctx, desired):
        created = _client(ctx).post(
            self._path(desired["project"]), "add config parameter", PARAMETER_FIELDS.params(desired, {"key", "value"})
        )
        return {**PARAMETER_FIELDS.attrs(created), "project": desired["project"]}

    def delete(self, ctx, id, actual):
        _client(ctx).delete(f"{self._path(actual['project'])}/{id}", "delete config parameter")

    def find_existing(self, ctx, desired):
        return _first_named(self.listed(ctx, ("project", desired["project"])), "key", desired["key"])


# --- bitbar_device_group --------------------------------------------------
class DeviceGroupArgs(Arguments):
    name: str = arg(description="Display name (also how an existing group is recognised).", min_length=1)
    os_type: Literal["ANDROID", "IOS"] = arg(description="Platform of the group's devices.")
    devices: list[int] = arg(
        default_factory=list, unordered=True, description="Device ids; membership is diffed into add/remove calls."
    )
    pick: GroupPick | None = arg(None, local=True, description="Not on this cloud (a validate error says why).")


GROUP_FIELDS = FieldMap(
    id="id", name="displayName", os_type="osType", device_count="deviceCount", credits_price="creditsPrice"
)


class DeviceGroup(PricedDevices):
    """A device group; its membership is diffed into add/remove calls."""

    type_name = "bitbar_device_group"
    Args = DeviceGroupArgs
    computed = ("id", "device_count", "credits_price")
    natural_key = ("name",)

    @staticmethod
    def _path(id: Any) -> str:
        return f"{ME}/device-groups/{id}"

    @staticmethod
    def _params(desired: Attrs) -> dict[str, Any]:
        """Writes take ``name`` (stored as displayName; the group's own ``name`` is generated)."""
        return {"name": desired["name"], "osType": desired["os_type"]}

    def _with_members(self, ctx, group: dict[str, Any]) -> Attrs:
        """The group with its members: one more listing, unless the group says it has no device."""
        members = (
            []
            if group.get("deviceCount") == 0
            else listing(ctx, f"{self._path(group['id'])}/devices", "list device group devices")
        )
        return {**GROUP_FIELDS.attrs(group), "devices": sorted(d["id"] for d in members)}

    @staticmethod
    def _groups(ctx) -> list[dict[str, Any]]:
        """The user's groups as listed (members not read), once per command. Never narrowed by the
        doc's ``search``: a group has a ``name`` and a ``displayName``, and the doc does not say which
        one search reads; one it misses would make a lost create's recovery create the group twice."""
        return ctx.listings.get(
            ("bitbar_device_group", "groups"), lambda: listing(ctx, f"{ME}/device-groups", "list device groups")
        )

    def read(self, ctx, id, prior):
        return self._with_members(ctx, _client(ctx).get(self._path(id), "read device group"))

    def list_scope(self, attrs):
        return ("device-groups",)

    def list(self, ctx, scope):
        """Each group's members are a listing of their own: those are read at once."""
        return ctx.listings.fanout.map(lambda group: self._with_members(ctx, group), self._groups(ctx))

    def create(self, ctx, desired):
        group = _client(ctx).post(f"{ME}/device-groups", "create device group", self._params(desired))
        # In state from here on: a failure while adding devices is repaired by the next diff.
        ctx.record({"id": group["id"], "devices": []})
        self._set_members(ctx, group["id"], desired.get("devices", []), [])
        return self.read(ctx, group["id"], {})

    def update(self, ctx, id, desired, actual):
        if (desired["name"], desired["os_type"]) != (actual.get("name"), actual.get("os_type")):
            _client(ctx).post(self._path(id), "update device group", self._params(desired), idempotent=True)
        self._set_members(ctx, id, desired.get("devices", []), actual.get("devices", []))
        return self.read(ctx, id, {})

    def _set_members(self, ctx, id, wanted: builtins.list[int], current: builtins.list[int]) -> None:
        for device in sorted(set(wanted) - set(current)):
            ctx.progress(f"device group {id}: adding device {device}")
            try:
                # Retried like any idempotent call: adding a member twice leaves one.
                _client(ctx).post_empty(
                    f"{self._path(id)}/devices", "add device to group", {"id": device}, idempotent=True
                )
            except ProviderError as exc:
                if exc.status != 409:
                    raise  # 409: a retried add whose first attempt had landed
        for device in sorted(set(current) - set(wanted)):
            ctx.progress(f"device group {id}: removing device {device}")
            with contextlib.suppress(NotFoundError):  # already out of the group
                _client(ctx).delete(f"{self._path(id)}/devices/{device}", "remove device from group")

    def delete(self, ctx, id, actual):
        _client(ctx).delete(self._path(id), "delete device group")

    def find_existing(self, ctx, desired):
        """With its members: a group recovered after an ambiguous create is then given the missing ones."""
        found = _first_named(self._groups(ctx), "displayName", desired["name"])
        return self._with_members(ctx, found) if found else None


# --- bitbar_project_sharing ------------------------------------------------
class SharingArgs(Arguments):
    project: int = arg(force_new=True, description="Project id to share, e.g. ${bitbar_project.NAME.id}.")
    email: str = arg(force_new=True, pattern=r"^[^@\s]+@[^@\s]+$", description="E-mail of the user it is shared with.")


SHARE_FIELDS = FieldMap(id="id", email="userEmail", user_id="userId")


class ProjectSharing(ResourceType):
    """A project shared with another user, by e-mail."""

    type_name = "bitbar_project_sharing"
    Args = SharingArgs
    computed = ("id", "user_id")
    natural_key = ("project", "email")

    @staticmethod
    def _path(project) -> str:
        return f"{_project_path(project)}/sharings"

    def read(self, ctx, id, prior):
        return {
            **SHARE_FIELDS.attrs(_client(ctx).get(f"{self._path(prior['project'])}/{id}", "read sharing")),
            "project": prior["project"],
        }

    def list_scope(self, attrs):
        return ("project", attrs["project"])

    def list(self, ctx, scope):
        return (
            {**SHARE_FIELDS.attrs(s), "project": scope[1]} for s in listing(ctx, self._path(scope[1]), "list sharings")
        )

    def create(self, ctx, desired):
        share = _client(ctx).post(self._path(desired["project"]), "share project", {"email": desired["email"]})
        return {**SHARE_FIELDS.attrs(share), "project": desired["project"]}

    def delete(self, ctx, id, actual):
        _client(ctx).delete(f"{self._path(actual['project'])}/{id}", "delete sharing")

    def find_existing(self, ctx, desired):
        return _first_named(self.listed(ctx, ("project", desired["project"])), "email", desired["email"])


# --- bitbar_notification ---------------------------------------------------
class NotificationArgs(Arguments):
    email: str = arg(force_new=True, pattern=r"^[^@\s]+@[^@\s]+$", description="Address the notifications go to.")
    type: Literal["ALWAYS", "ON_FAILURE"] = arg(description="Changes in place.")
    project: int | None = arg(None, force_new=True, description="Only this project's runs; all projects when unset.")


NOTIFICATION_FIELDS = FieldMap(id="id", email="email", type="type", project="project")


class Notification(ResourceType):
    """E-mail notifications of run results, for one project or all."""

    type_name = "bitbar_notification"
    Args = NotificationArgs
    natural_key = ("email",)

    @staticmethod
    def _path(id) -> str:
        return f"{ME}/notification/{id}"

    def read(self, ctx, id, prior):
        return NOTIFICATION_FIELDS.attrs(_client(ctx).get(self._path(id), "read notification"))

    def list_scope(self, attrs):
        return ("notifications",)

    def list(self, ctx, scope):
        return (NOTIFICATION_FIELDS.attrs(n) for n in listing(ctx, f"{ME}/notifications", "list notifications"))

    def create(self, ctx, desired):
        collection = (
            f"{_project_path(desired['project'])}/notifications" if desired.get("project") else f"{ME}/notifications"
        )
        created = _client(ctx).post(
            collection, "add notification", {"email": desired["email"], "type": desired["type"]}
        )
        return NOTIFICATION_FIELDS.attrs(created)

    def update(self, ctx, id, desired, actual):
        return NOTIFICATION_FIELDS.attrs(
            _client(ctx).post(self._path(id), "update notification", {"type": desired["type"]}, idempotent=True)
        )

    def delete(self, ctx, id, actual):
        _client(ctx).delete(self._path(id), "delete notification")

    def find_existing(self, ctx, desired):
        return next(
            (
                n
                for n in self.listed(ctx, ("notifications",))
                if n["email"] == desired["email"] and n.get("project") == desired.get("project")
            ),
            None,
        )
