"""Microsoft's clouds: the global one and the national clouds an account can live in.

Each cloud has its own sign-in host, Graph host and Azure portal; an app registration and its
accounts exist in one cloud only, and personal Microsoft accounts exist in the global cloud
only. rclone names the cloud with its onedrive ``region`` key and knows the same hosts
(backend/onedrive/onedrive.go: ``graphAPIEndpoint``, ``authEndpoint``).

US Government DoD (dod-graph.microsoft.us) is not offered: rclone has no region for it, so a
drive signed in there could not be mounted.
"""

from __future__ import annotations

from dataclasses import dataclass

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import N_, _, names

GLOBAL = "global"


@dataclass(frozen=True)
class Cloud:
    key: str  # what settings and --cloud store; equal to rclone's region
    label: str
    login_host: str
    graph_host: str
    portal_host: str
    cloud_shell_url: str
    personal_accounts: bool

    @property
    def authority_host(self) -> str:
        return f"https://{self.login_host}"

    @property
    def graph_url(self) -> str:
        return f"https://{self.graph_host}/v1.0"

    @property
    def rclone_region(self) -> str:
        return self.key

    @property
    def portal_url(self) -> str:
        return f"https://{self.portal_host}"

    @property
    def app_registrations_url(self) -> str:
        return (f"https://{self.portal_host}/#view/Microsoft_AAD_RegisteredApps/"
                "ApplicationsListBlade")

    @property
    def new_registration_url(self) -> str:
        return (f"https://{self.portal_host}/#view/Microsoft_AAD_RegisteredApps/"
                "CreateApplicationBlade/quickStartType~/null/isMSAApp~/false")

    def admin_consent_url(self, tenant: str, client_id: str) -> str:
        """The page an administrator opens to grant consent for the whole organization."""
        from urllib.parse import quote

        return (f"https://{self.login_host}/{quote(tenant, safe='')}/adminconsent"
                f"?client_id={quote(client_id, safe='')}")


CLOUDS: dict[str, Cloud] = {
    GLOBAL: Cloud(
        key=GLOBAL, label=N_("Global (Microsoft 365, outlook.com)"),
        login_host="login.microsoftonline.com", graph_host="graph.microsoft.com",
        portal_host="portal.azure.com", cloud_shell_url="https://shell.azure.com/",
        personal_accounts=True),
    "us": Cloud(
        key="us", label=N_("US Government (GCC High)"),
        login_host="login.microsoftonline.us", graph_host="graph.microsoft.us",
        portal_host="portal.azure.us", cloud_shell_url="https://portal.azure.us/#cloudshell/",
        personal_accounts=False),
    "cn": Cloud(
        key="cn", label=N_("China (operated by 21Vianet)"),
        login_host="login.chinacloudapi.cn", graph_host="microsoftgraph.chinacloudapi.cn",
        portal_host="portal.azure.cn", cloud_shell_url="https://portal.azure.cn/#cloudshell/",
        personal_accounts=False),
}

DOD_NOTE = (N_("US Government DoD is not offered: rclone, which mounts the drives, has no region "
            "for it (only Global, US Government and China), so a DoD drive could not be "
            "mounted."))
_ALIASES = {"": GLOBAL, "com": GLOBAL, "public": GLOBAL, "azurecloud": GLOBAL,
            "usgov": "us", "gcchigh": "us", "gcc-high": "us", "usgovernment": "us",
            "azureusgovernment": "us", "china": "cn", "21vianet": "cn",
            "azurechinacloud": "cn"}


def cloud(key: str) -> Cloud:
    """The cloud named *key* (a settings value, rclone region or common alias)."""
    k = key.strip().lower()
    k = _ALIASES.get(k, k)
    if k in CLOUDS:
        return CLOUDS[k]
    if k in ("dod", "usgovdod", "us-dod", "usdod"):
        raise ValidationError(_("Cloud not supported"), _(DOD_NOTE),
                              _("Use 'us' for US Government (GCC High) tenants."))
    raise ValidationError(
        _("Unknown cloud"),
        _("'{key}' is not a Microsoft cloud this app knows.").format(key=key),
        _("Use one of: {values}.").format(
            values=names(_("{key} ({label})").format(key=c.key, label=_(c.label))
                         for c in CLOUDS.values())),
    )


def validate_tenant_for_cloud(tenant: str, c: Cloud) -> str:
    """*tenant* (already validated) is possible in cloud *c*: no 'consumers' outside Global."""
    if not c.personal_accounts and tenant.lower() == "consumers":
        raise ValidationError(
            _("No personal accounts in this cloud"),
            _(
                "{label} has no personal Microsoft accounts, so the tenant 'consumers' cannot "
                "sign in there."
            ).format(label=_(c.label)),
            _(
                "Use 'organizations' or your organization's tenant ID (Microsoft Entra ID → "
                "Overview in {portal_host})."
            ).format(portal_host=c.portal_host),
        )
    return tenant
