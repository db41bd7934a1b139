"""Account commands: add, list, remove, reauth, set-secret."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import _


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _(
                "'{value}' is not a date: use YYYY-MM-DD (the secret's 'Expires' column)"
            ).format(value=value)
        ) from None


def _mount_point_arg(value: str | None, name: str, settings: Any) -> str:
    """The --mount-point of *name* (or its default) checked now, as a full path: relative
    paths are taken from the current folder."""
    import os

    from onedrive_gui.core.drives.mountpoints import (
        check_mount_point,
        default_mount_point,
        onedrive_sync_note,
        other_mount_points,
    )
    from onedrive_gui.core.errors import MountError

    wanted = value if value is not None else default_mount_point(
        name, [a.mount_point for a in settings.accounts if a.name.lower() != name.lower()])
    try:
        path = check_mount_point(wanted, others=other_mount_points(settings.accounts,
                                                                   exclude=name),
                                 base=os.getcwd())
    except MountError as err:
        if value is not None:
            raise
        raise MountError(err.title, _(
            "The default mount point cannot be used: {message}"
        ).format(message=err.message),
                         _("Choose a folder with --mount-point PATH.")) from None
    note = onedrive_sync_note(path)
    if note:
        print(note, file=sys.stderr, flush=True)
    return path


def register(sub: Any) -> None:
    from onedrive_gui.cli.authorize import add_cloud_arg, port_arg, seconds_arg

    add = sub.add_parser("add", help=_("add a OneDrive account (sign in, pick a drive, save)"))
    add.add_argument("name", help=_("account name, also the rclone remote name (A-Z, 0-9, _)"))
    add.add_argument("--client-id", help=_("Application (client) ID of your app (required "
                     "unless --from is given)"))
    add.add_argument("--from", dest="from_account", metavar="ACCOUNT",
                     help=_("use the sign-in of an account already added (its app, tenant, "
                     "cloud and token): no browser; pick the drive with --drive-id or --site"))
    add.add_argument("--tenant", default="common",
                     help=_("common, consumers, organizations or an ID"))
    add_cloud_arg(add)
    add.add_argument("--drive-id", help=_("drive or SharePoint/Teams library to use (default: "
                     "the account's own drive; 'onedrive-gui libraries' lists the IDs)"))
    add.add_argument("--site", metavar="QUERY", help=_("a SharePoint site's library: search the "
                     "sites by name (work/school; asks for Sites.Read.All)"))
    add.add_argument("--library", metavar="NAME", help=_("with --site: the library's name when "
                     "the site has several (e.g. Documents)"))
    add.add_argument("--secret-expires", type=_date, help=_("the secret's expiry date, YYYY-MM-DD"))
    add.add_argument("--mount-point", help=(
        _("where to mount (default: the first free drive letter from Z: down)")
        if sys.platform == "win32" else
        _("where to mount (default: {path})").format(path="~/OneDrive/<name>")))
    add.add_argument("--no-browser", action="store_true", help=_("print the sign-in URL instead"))
    add.add_argument("--port", type=port_arg, default=None,
                     help=_("loopback port (default 53682)"))
    add.add_argument("--timeout", type=seconds_arg, default=300.0,
                     help=_("seconds to wait for the browser"))
    add.set_defaults(func=cmd_add)

    lib = sub.add_parser(
        "libraries", help=_("sign in and list the drives, SharePoint sites' and Teams' "
        "libraries the account can mount (with their --drive-id)"))
    lib.add_argument("--client-id", required=True, help=_("Application (client) ID of your app"))
    lib.add_argument("--tenant", default="common",
                     help=_("common, organizations or a tenant ID"))
    add_cloud_arg(lib)
    lib.add_argument("--search", metavar="QUERY", help=_("also search SharePoint sites by name"))
    lib.add_argument("--no-browser", action="store_true", help=_("print the sign-in URL instead"))
    lib.add_argument("--port", type=port_arg, default=None, help=_("loopback port"))
    lib.add_argument("--timeout", type=seconds_arg, default=300.0,
                     help=_("seconds to wait for the browser"))
    lib.set_defaults(func=cmd_libraries)

    ls = sub.add_parser("list", help=_("list accounts, drives, mount points and state"))
    ls.set_defaults(func=cmd_list)

    rm = sub.add_parser("remove", help=_("remove an account: remote, settings and keyring entries"))
    rm.add_argument("name")
    rm.set_defaults(func=cmd_remove)

    re = sub.add_parser("reauth", help=_("sign in again and replace the token in place"))
    re.add_argument("name")
    re.add_argument("--no-browser", action="store_true")
    re.add_argument("--port", type=port_arg, default=None)
    re.add_argument("--timeout", type=seconds_arg, default=300.0)
    re.set_defaults(func=cmd_reauth)

    ss = sub.add_parser("set-secret", help=_("rotate the client secret (read from stdin)"))
    ss.add_argument("name")
    ss.add_argument("--expires", type=_date, help=_("the new secret's expiry date, YYYY-MM-DD"))
    ss.set_defaults(func=cmd_set_secret)


def _cells(text: str) -> int:
    """Terminal columns *text* takes: Chinese, Japanese and Korean characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _service() -> Any:
    from onedrive_gui.core.accounts import AccountService
    from onedrive_gui.core.system.paths import AppPaths

    return AccountService(AppPaths.default())


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _drive_id_arg(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise ValidationError(
            _("Drive ID missing"),
            _("--drive-id was given without a drive ID."),
            _("Leave --drive-id out to use the account's own drive; the other drives found are "
            "listed then."),
        )
    return value.strip()


def _expiry_arg(value: date | None) -> date | None:
    from onedrive_gui.core.validation import validate_secret_expiry

    return None if value is None else validate_secret_expiry(value)


def cmd_add(args: argparse.Namespace) -> int:
    from onedrive_gui.cli.authorize import (
        check_cloud_arg,
        check_sign_in_args,
        interactive_sign_in,
        read_client_secret,
    )
    from onedrive_gui.core.validation import validate_account_name

    service = _service()
    try:
        # every argument is checked before the keyring, the secret and the browser
        name = validate_account_name(args.name, service.settings.names())
        source = service.account(args.from_account) if args.from_account else None
        if source is None and not args.client_id:
            raise ValidationError(_("Client ID missing"), _("No --client-id was given."),
                                  _("Give your app's --client-id, or --from ACCOUNT to use the "
                                  "sign-in of an account already added."))
        if source is not None:
            client_id, tenant, cloud = source.client_id, source.tenant, source.cloud
            port, timeout = 0, 0.0
        else:
            client_id, tenant, port, timeout = check_sign_in_args(
                args.client_id, args.tenant, args.port, args.timeout)
            cloud = check_cloud_arg(args.cloud, tenant)
        drive_id = _drive_id_arg(args.drive_id)
        site = _site_args(args.site, args.library, drive_id, tenant)
        secret_expires = _expiry_arg(args.secret_expires)
        mount_point = _mount_point_arg(args.mount_point, name, service.settings)
        service.secrets.check()  # refuse before the user spends time in the browser
        if source is not None:
            secret = service.secrets.get_client_secret(source.name)
            secret_expires = secret_expires or source.secret_expires
            _say(_("Using the sign-in of '{name}'...").format(name=source.name))
            token = service.signed_in(source.name,
                                      ("Sites.Read.All",) if site else ())
        else:
            secret = read_client_secret()
            token = interactive_sign_in(
                client_id, secret, tenant=tenant, no_browser=args.no_browser,
                port=port, timeout=timeout, cloud=cloud,
                extra_scopes=("Sites.Read.All",) if site else (),
            )
        _say(_("Looking up your drives..."))
        user, drives = service.discover(token, cloud)
        if site:
            drive = _site_library(token, cloud, drives, site, args.library)
        elif drive_id:
            drive = _drive_by_id(token, cloud, user, drives, drive_id)
        else:
            if len(drives) > 1:
                _say(_(
                    "{n_drives} drives found; using the default one. Others:"
                ).format(n_drives=len(drives)))
                for d in drives[1:]:
                    _say(_(
                        "  --drive-id {id}  {name} ({drive_type})"
                    ).format(id=d.id, name=d.name, drive_type=d.drive_type))
            drive = drives[0]
        account = service.add_account(
            name,
            client_id=client_id,
            client_secret=secret,
            tenant=tenant,
            token=token,
            user=user,
            drive=drive,
            secret_expires=secret_expires,
            mount_point=mount_point,
            cloud=cloud,
        )
    finally:
        service.shutdown()
    print(
        _(
            "Added '{name}': {name2} ({drive_type}) of {display_name} <{email}>. Mount it "
            "with: onedrive-gui mount {name}"
        ).format(
            name=account.name,
            name2=drive.name,
            drive_type=drive.drive_type,
            display_name=user.display_name,
            email=user.email,
        )
    )
    return 0


def _site_args(site: str | None, library: str | None, drive_id: str | None,
               tenant: str) -> str | None:
    """--site / --library checked: not with --drive-id, not for personal accounts."""
    if library is not None and site is None:
        raise ValidationError(_("--library without --site"),
                              _("--library names a library of the site given with --site."),
                              _("Add --site QUERY, or use --drive-id."))
    if site is None:
        return None
    if not site.strip():
        raise ValidationError(_("Nothing to search for"), _("--site was given without a name."),
                              _("Type a part of the site's name, e.g. --site Marketing."))
    if drive_id is not None:
        raise ValidationError(_("--site and --drive-id together"),
                              _("Both pick the drive to mount."), _("Use one of them."))
    if tenant.lower() == "consumers":
        from onedrive_gui.core.microsoft.libraries import PERSONAL_NOTE

        raise ValidationError(_("No sites for personal accounts"), _(PERSONAL_NOTE),
                              _("Leave --site out, or sign in with a work or school account."))
    return site.strip()


def _site_library(token: Any, cloud: str, drives: list[Any], site: str,
                  library: str | None) -> Any:
    from onedrive_gui.core.microsoft.graph import GraphClient
    from onedrive_gui.core.microsoft.libraries import (
        PERSONAL_NOTE,
        is_personal,
        pick,
        site_libraries,
    )

    if is_personal(drives):
        raise ValidationError(_("No sites for personal accounts"), _(PERSONAL_NOTE),
                              _("Leave --site out, or sign in with a work or school account."))
    _say(_("Searching SharePoint sites for '{site}'...").format(site=site))
    graph = GraphClient(token.access_token, cloud=cloud)
    return pick(site_libraries(graph, site), library, site).drive


def _drive_by_id(token: Any, cloud: str, user: Any, drives: list[Any], drive_id: str) -> Any:
    """One of the account's drives, or any library it can reach, by ID."""
    from onedrive_gui.core.errors import GraphError
    from onedrive_gui.core.microsoft.graph import GraphClient

    matches = [d for d in drives if d.id == drive_id]
    if matches:
        return matches[0]
    try:
        return GraphClient(token.access_token, cloud=cloud).library(drive_id)
    except GraphError as exc:
        if exc.code not in ("404", "itemNotFound", "403", "accessDenied", "invalidRequest"):
            raise
        raise ValidationError(
            _("Drive not found"),
            _(
                "{email} has no drive with ID '{drive_id}' and cannot reach one."
            ).format(email=user.email, drive_id=drive_id),
            _("Run 'onedrive-gui libraries' to see the drives and libraries found, or the "
            "command without --drive-id to use the account's own drive."),
        ) from None


def cmd_libraries(args: argparse.Namespace) -> int:
    from onedrive_gui.cli.authorize import (
        check_cloud_arg,
        check_sign_in_args,
        interactive_sign_in,
        read_client_secret,
    )
    from onedrive_gui.core.errors import AppError
    from onedrive_gui.core.microsoft.graph import GraphClient, PermissionMissing
    from onedrive_gui.core.microsoft.libraries import (
        PERSONAL_NOTE,
        Library,
        followed_libraries,
        is_personal,
        site_libraries,
        team_libraries,
    )
    from onedrive_gui.core.microsoft.oauth import SITE_SCOPES

    client_id, tenant, port, timeout = check_sign_in_args(args.client_id, args.tenant,
                                                          args.port, args.timeout)
    cloud = check_cloud_arg(args.cloud, tenant)
    # Sites.Read.All is safe to ask of any account (rclone asks it by default); the Teams
    # permission only where no personal account can sign in (organizations, a tenant, or a
    # national cloud)
    t = tenant.lower()
    if t == "consumers":
        extra: tuple[str, ...] = ()
    elif t == "common" and cloud == "global":
        extra = ("Sites.Read.All",)
    else:
        extra = tuple(SITE_SCOPES)
    secret = read_client_secret()
    token = interactive_sign_in(client_id, secret, tenant=tenant, no_browser=args.no_browser,
                                port=port, timeout=timeout, cloud=cloud, extra_scopes=extra)
    graph = GraphClient(token.access_token, cloud=cloud)
    drives = graph.drives()
    rows: list[Library] = [Library(d, _("Your drives")) for d in drives]
    notes: list[str] = []
    if is_personal(drives):
        notes.append(_(PERSONAL_NOTE))
    else:
        search = str(args.search or "")

        def searched() -> list[Library]:
            return site_libraries(graph, search)

        def followed() -> list[Library]:
            return followed_libraries(graph)

        def teams() -> list[Library]:
            return team_libraries(graph)

        finders: list[tuple[str, Callable[[], list[Library]]]] = [
            (_("followed sites"), followed), (_("Teams"), teams)]
        if search:
            finders.insert(0, (_("site search"), searched))
        for what, find in finders:
            try:
                rows.extend(find())
            except PermissionMissing as exc:
                notes.append(_("{what}: {message} {hint}").format(
                    what=what, message=exc.message, hint=exc.hint))
                if exc.scope == "Team.ReadBasic.All" and "Team.ReadBasic.All" not in extra:
                    notes.append(_("With tenant 'common' the Teams permission is not asked for "
                                   "(personal accounts cannot have it): run again with "
                                   "--tenant organizations."))
            except AppError as exc:
                notes.append(_("{what}: {message}").format(what=what, message=exc.message))
    seen: set[str] = set()
    print(_("DRIVE ID  NAME  TYPE  WHERE"))
    for lib in rows:
        if lib.drive.id in seen:
            continue
        seen.add(lib.drive.id)
        print(f"{lib.drive.id}  {lib.drive.name}  {lib.drive.drive_type}  {lib.where}")
    for note in notes:
        _say(note)
    _say(_("Add one with: onedrive-gui add NAME --client-id ID --drive-id DRIVE_ID "
           "--cloud {cloud}").format(cloud=cloud) if cloud != "global" else
         _("Add one with: onedrive-gui add NAME --client-id ID --drive-id DRIVE_ID"))
    return 0


def _pad(cell: str, width: int) -> str:
    """*cell* padded with spaces to *width* terminal cells."""
    return cell.ljust(len(cell) + width - _cells(cell))


def cmd_list(args: argparse.Namespace) -> int:
    from onedrive_gui.core.drives.mountpoints import is_mount_point

    service = _service()
    settings = service.settings
    if not settings.accounts:
        print(_("No accounts yet. Add one with: onedrive-gui add <name> --client-id <GUID>"))
        return 0
    header = (_("NAME"), _("ACCOUNT"), _("DRIVE"), _("MOUNT POINT"), _("STATE"),
              _("SECRET EXPIRES"), _("LAST SIGN-IN"))
    rows = [header]
    for a in settings.accounts:
        mounted = bool(a.mount_point) and is_mount_point(a.mount_point)
        rows.append((
            a.name,
            a.username or "",
            f"{a.drive_name or a.drive_id} ({a.drive_type})"
            + ("" if a.cloud == "global" else f" [{a.cloud}]"),
            a.mount_point or "-",
            _("mounted") if mounted else _("unmounted"),
            a.secret_expires.isoformat() if a.secret_expires else _("unknown"),
            a.last_sign_in.strftime("%Y-%m-%d %H:%M") if a.last_sign_in else "-",
        ))
    widths = [max(_cells(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from onedrive_gui.core.drives.mountpoints import is_mount_point
    from onedrive_gui.core.errors import MountError

    service = _service()
    try:
        account = service.account(args.name)
        if account.mount_point and is_mount_point(account.mount_point):
            raise MountError(
                _("Account is mounted"),
                _(
                    "'{name}' is mounted on {mount_point}."
                ).format(name=account.name, mount_point=account.mount_point),
                _("Unmount it first (stop its 'onedrive-gui mount' or use the tray), then retry."),
            )
        service.remove_account(account.name)
    finally:
        service.shutdown()
    print(_("Removed '{name}' (rclone remote, keyring entry and settings).").format(name=args.name))
    return 0


def cmd_reauth(args: argparse.Namespace) -> int:
    from onedrive_gui.cli.authorize import check_sign_in_args, interactive_sign_in

    service = _service()
    try:
        account = service.account(args.name)
        check_sign_in_args(account.client_id, account.tenant, args.port, args.timeout)
        secret = service.secrets.get_client_secret(account.name)
        token = interactive_sign_in(
            account.client_id, secret, tenant=account.tenant, no_browser=args.no_browser,
            port=args.port, timeout=args.timeout, cloud=account.cloud,
        )
        service.reauthorize(account.name, token)
    finally:
        service.shutdown()
    print(_("Signed in again: the token of '{name}' was replaced.").format(name=args.name))
    return 0


def cmd_set_secret(args: argparse.Namespace) -> int:
    from onedrive_gui.cli.authorize import read_client_secret

    service = _service()
    try:
        account = service.account(args.name)
        expires = _expiry_arg(args.expires)  # before the secret is asked for
        secret = read_client_secret()
        service.set_client_secret(account.name, secret, expires)
    finally:
        service.shutdown()
    when = _(
        ", expires {isoformat}"
    ).format(isoformat=args.expires.isoformat()) if args.expires else ""
    print(_("Client secret of '{name}' replaced{when}.").format(name=args.name, when=when))
    return 0
