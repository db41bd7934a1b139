"""SharePoint and Teams document libraries a work or school account can mount.

Where they come from (Graph, delegated): ``GET /sites?search=`` and ``/me/followedSites``
(Sites.Read.All), ``/me/joinedTeams`` (Team.ReadBasic.All) → ``/groups/{id}/drive``, and a
site's libraries ``/sites/{id}/drives`` (Files.Read is enough). A library is mounted like any
drive: the remote gets its ``drive_id`` and the ``drive_type`` Graph reports
(``documentLibrary``). Personal Microsoft accounts have no sites or Teams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onedrive_gui.core.errors import GraphError, ValidationError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.microsoft.graph import DriveInfo, GraphClient

PERSONAL_NOTE = (N_("Personal Microsoft accounts have no SharePoint sites or Teams: only their "
                 "own OneDrive (and the drives listed here) can be mounted."))


@dataclass(frozen=True)
class Library:
    drive: DriveInfo
    where: str  # "Site: Marketing", "Team: Sales", "Your drives"

    @property
    def label(self) -> str:
        return f"{self.drive.name} — {self.where}"


def is_personal(drives: list[DriveInfo]) -> bool:
    """The signed-in account is a personal Microsoft account (its own drive is 'personal')."""
    return bool(drives) and drives[0].drive_type == "personal"


def site_libraries(graph: GraphClient, query: str) -> list[Library]:
    """The libraries of every site whose name matches *query* (PermissionMissing without
    Sites.Read.All)."""
    if not query.strip():
        raise ValidationError(_("Nothing to search for"), _("The site search is empty."),
                              _("Type a part of the site's name, e.g. Marketing."))
    out: list[Library] = []
    for site in graph.search_sites(query):
        out.extend(Library(d, _(
            "Site: {name}"
        ).format(name=site.name)) for d in graph.site_drives(site.id))
    return out


def followed_libraries(graph: GraphClient) -> list[Library]:
    out: list[Library] = []
    for site in graph.followed_sites():
        out.extend(Library(d, _(
            "Site: {name}"
        ).format(name=site.name)) for d in graph.site_drives(site.id))
    return out


def team_libraries(graph: GraphClient) -> list[Library]:
    """Each Team's library (a Team whose group has no drive yet is left out)."""
    out: list[Library] = []
    for team in graph.joined_teams():
        try:
            drive = graph.group_drive(team.id)
        except GraphError as exc:
            if exc.code in ("404", "itemNotFound", "ResourceNotFound"):
                continue
            raise
        out.append(Library(drive, _("Team: {name}").format(name=team.name)))
    return out


def pick(libraries: list[Library], name: str | None, query: str) -> Library:
    """The one library meant: the only one found, or the one named *name*."""
    if not libraries:
        raise ValidationError(
            _("No library found"),
            _(
                "No SharePoint site matching '{query}' with a document library was found."
            ).format(query=query),
            _("Check the site's name (as shown in SharePoint), or list what the account can "
            "reach with 'onedrive-gui libraries'."),
        )
    if name is not None:
        wanted = [lib for lib in libraries if lib.drive.name.casefold() == name.casefold()]
        if len(wanted) == 1:
            return wanted[0]
    elif len(libraries) == 1:
        return libraries[0]
    choices = "; ".join(f"{lib.label} (--drive-id {lib.drive.id})" for lib in libraries[:10])
    raise ValidationError(
        _("Several libraries found") if name is None else _("Library not found"),
        _("'{query}' matches: {choices}.").format(query=query, choices=choices),
        _("Name the library with --library NAME, or use --drive-id with one of the IDs."),
    )


@dataclass(frozen=True)
class Found:
    """What a look for libraries found, and the optional permissions that were missing."""

    libraries: list[Library]
    missing: list[str]  # scopes (Sites.Read.All, Team.ReadBasic.All) the sign-in lacks


def find_libraries(graph: GraphClient, search: str | None = None) -> Found:
    """Libraries of the sites found by *search* (if given), the followed sites and the user's
    Teams, without duplicates; a missing optional permission is reported, not raised."""
    from onedrive_gui.core.microsoft.graph import PermissionMissing

    out: list[Library] = []
    missing: list[str] = []
    seen: set[str] = set()
    query = (search or "").strip()

    def searched() -> list[Library]:
        return site_libraries(graph, query)

    def followed() -> list[Library]:
        return followed_libraries(graph)

    def teams() -> list[Library]:
        return team_libraries(graph)

    steps: list[Callable[[], list[Library]]] = [followed, teams]
    if query:
        steps.insert(0, searched)
    for step in steps:
        try:
            found = step()
        except PermissionMissing as exc:
            if exc.scope not in missing:
                missing.append(exc.scope)
            continue
        for lib in found:
            if lib.drive.id not in seen:
                seen.add(lib.drive.id)
                out.append(lib)
    return Found(out, missing)
