"""Microsoft's clouds: what each one means for sign-in, Graph, rclone and the portal, and the
account's cloud in the settings file (files from before clouds existed still load)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onedrive_gui.core.errors import SettingsError, ValidationError
from onedrive_gui.core.microsoft.aad_errors import (
    AdminConsentRequired,
    auth_error,
    with_admin_consent,
)
from onedrive_gui.core.microsoft.clouds import CLOUDS, cloud, validate_tenant_for_cloud
from onedrive_gui.core.settings import SettingsStore, settings_to_json

OLD_FILE = {
    "schema_version": 1,
    "accounts": [{"name": "work", "client_id": "11111111-2222-3333-4444-555555555555",
                  "tenant": "common", "drive_id": "b!abc", "drive_type": "business"}],
}


@pytest.mark.parametrize(("key", "login", "graph", "region", "portal"), [
    ("global", "login.microsoftonline.com", "graph.microsoft.com", "global",
     "portal.azure.com"),
    ("us", "login.microsoftonline.us", "graph.microsoft.us", "us", "portal.azure.us"),
    ("cn", "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn", "cn",
     "portal.azure.cn"),
])
def test_hosts_region_and_portal(key, login, graph, region, portal):
    c = cloud(key)
    assert c.authority_host == f"https://{login}"
    assert c.graph_url == f"https://{graph}/v1.0"
    assert c.rclone_region == region
    assert c.app_registrations_url.startswith(f"https://{portal}/")
    assert c.personal_accounts is (key == "global")


def test_aliases_and_dod():
    assert cloud("China").key == "cn" and cloud("AzureUSGovernment").key == "us"
    assert cloud("").key == "global"
    with pytest.raises(ValidationError) as err:
        cloud("dod")
    assert "rclone" in err.value.message and "DoD" in err.value.message
    with pytest.raises(ValidationError) as err:
        cloud("mars")
    assert "global" in err.value.hint and "cn" in err.value.hint


def test_no_personal_tenant_outside_global():
    assert validate_tenant_for_cloud("consumers", CLOUDS["global"]) == "consumers"
    assert validate_tenant_for_cloud("organizations", CLOUDS["us"]) == "organizations"
    with pytest.raises(ValidationError) as err:
        validate_tenant_for_cloud("consumers", CLOUDS["cn"])
    assert "portal.azure.cn" in err.value.hint


@pytest.mark.parametrize("code", ["AADSTS65001", "AADSTS90094"])
def test_admin_approval_names_the_consent_link(code):
    url = CLOUDS["us"].admin_consent_url("contoso.onmicrosoft.us", "abc")
    assert url == "https://login.microsoftonline.us/contoso.onmicrosoft.us/adminconsent" \
        "?client_id=abc"
    err = with_admin_consent(auth_error("consent_required", f"{code}: needs admin"), url)
    assert isinstance(err, AdminConsentRequired)
    assert err.admin_consent_url == url and url in err.hint and err.code == code


def test_other_errors_get_no_consent_link():
    err = auth_error("invalid_client", "AADSTS7000215: Invalid client secret")
    assert with_admin_consent(err, "https://x") is err


def test_settings_without_cloud_load_as_global_and_cloud_round_trips(tmp_path: Path):
    store = SettingsStore(tmp_path / "settings.json")
    store.path.write_text(json.dumps(OLD_FILE))
    settings = store.load()
    assert settings.accounts[0].cloud == "global"
    settings.accounts[0].cloud = "cn"
    store.save(settings)
    assert json.loads(store.path.read_text())["accounts"][0]["cloud"] == "cn"
    assert store.load().accounts[0].cloud == "cn"
    assert settings_to_json(store.load())["accounts"][0]["cloud"] == "cn"


def test_unknown_cloud_in_file_is_reported(tmp_path: Path):
    store = SettingsStore(tmp_path / "settings.json")
    bad = json.loads(json.dumps(OLD_FILE))
    bad["accounts"][0]["cloud"] = "dod"
    store.path.write_text(json.dumps(bad))
    with pytest.raises(SettingsError) as err:
        store.load()
    assert "accounts[0].cloud 'dod'" in err.value.message
