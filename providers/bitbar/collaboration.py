"""Run tags, project sharings and e-mail notifications."""

from __future__ import annotations

from typing import Literal

from providers.base import Arguments, ResourceType, arg
from providers.bitbar.client import ME
from providers.bitbar.client import client_of as _client
from providers.bitbar.client import project_path as _project_path
from providers.bitbar.resources import _first_named
from providers.mapping import FieldMap


# --- bitbar_run_tag ------------------------------------------------------
class RunTagArgs(Arguments):
    project: int = arg(force_new=True)
    run: int = arg(force_new=True)
    name: str = arg(force_new=True, min_length=1)


TAG_FIELDS = FieldMap(id="id", name="name")


class RunTag(ResourceType):
    type_name = "bitbar_run_tag"
    Args = RunTagArgs
    natural_key = ("project", "run", "name")

    @staticmethod
    def _path(project, run) -> str:
        return f"{_project_path(project)}/runs/{run}/tags"

    def _attrs(self, tag, project, run):
        return {**TAG_FIELDS.attrs(tag), "project": project, "run": run}

    def read(self, ctx, id, prior):
        return self._attrs(_client(ctx).get(f"{self._path(prior['project'], prior['run'])}/{id}", "read tag"), prior["project"], prior["run"])

    def list_scope(self, attrs):
        return ("run", attrs["project"], attrs["run"])

    def list(self, ctx, scope):
        _, project, run = scope
        return (self._attrs(tag, project, run) for tag in _client(ctx).list(self._path(project, run), "list tags"))

    def create(self, ctx, desired):
        tag = _client(ctx).post(self._path(desired["project"], desired["run"]), "create tag", {"name": desired["name"]})
        return self._attrs(tag, desired["project"], desired["run"])

    def delete(self, ctx, id, actual):
        _client(ctx).delete(f"{self._path(actual['project'], actual['run'])}/{id}", "delete tag")

    def find_existing(self, ctx, desired):
        return _first_named(self.list(ctx, ("run", desired["project"], desired["run"])), "name", desired["name"])


# --- bitbar_project_sharing ------------------------------------------------
class SharingArgs(Arguments):
    project: int = arg(force_new=True)
    email: str = arg(force_new=True, pattern=r"^[^@\s]+@[^@\s]+$")


SHARE_FIELDS = FieldMap(id="id", email="userEmail", user_id="userId")


class ProjectSharing(ResourceType):
    type_name = "bitbar_project_sharing"
    Args = SharingArgs
    computed = ("id", "user_id")
    natural_key = ("project", "email")

    @staticmethod
    def _path(project) -> str:
        return f"{_project_path(project)}/sharings"

    def read(self, ctx, id, prior):
        return {**SHARE_FIELDS.attrs(_client(ctx).get(f"{self._path(prior['project'])}/{id}", "read sharing")), "project": prior["project"]}

    def list_scope(self, attrs):
        return ("project", attrs["project"])

    def list(self, ctx, scope):
        return ({**SHARE_FIELDS.attrs(s), "project": scope[1]} for s in _client(ctx).list(self._path(scope[1]), "list sharings"))

    def create(self, ctx, desired):
        share = _client(ctx).post(self._path(desired["project"]), "share project", {"email": desired["email"]})
        return {**SHARE_FIELDS.attrs(share), "project": desired["project"]}

    def delete(self, ctx, id, actual):
        _client(ctx).delete(f"{self._path(actual['project'])}/{id}", "delete sharing")

    def find_existing(self, ctx, desired):
        return _first_named(self.list(ctx, ("project", desired["project"])), "email", desired["email"])


# --- bitbar_notification ---------------------------------------------------
class NotificationArgs(Arguments):
    email: str = arg(force_new=True, pattern=r"^[^@\s]+@[^@\s]+$")
    type: Literal["ALWAYS", "ON_FAILURE"] = arg(description="Changes in place.")
    project: int | None = arg(None, force_new=True, description="Only this project's runs; all projects when unset.")


NOTIFICATION_FIELDS = FieldMap(id="id", email="email", type="type", project="project")


class Notification(ResourceType):
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
        return (NOTIFICATION_FIELDS.attrs(n) for n in _client(ctx).list(f"{ME}/notifications", "list notifications"))

    def create(self, ctx, desired):
        collection = f"{_project_path(desired['project'])}/notifications" if desired.get("project") else f"{ME}/notifications"
        created = _client(ctx).post(collection, "add notification", {"email": desired["email"], "type": desired["type"]})
        return NOTIFICATION_FIELDS.attrs(created)

    def update(self, ctx, id, desired, actual):
        return NOTIFICATION_FIELDS.attrs(_client(ctx).post(self._path(id), "update notification", {"type": desired["type"]}, idempotent=True))

    def delete(self, ctx, id, actual):
        _client(ctx).delete(self._path(id), "delete notification")

    def find_existing(self, ctx, desired):
        return next(
            (n for n in self.list(ctx, ("notifications",)) if n["email"] == desired["email"] and n.get("project") == desired.get("project")),
            None,
        )
