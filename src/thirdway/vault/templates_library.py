"""Starting texts of documentation pages for common things (Markdown, filled in by hand).

Pure: imports no Django and nothing of ours.
"""

from __future__ import annotations

STARTERS: dict[str, tuple[str, str]] = {
    "firewall": (
        "Firewall",
        """# Firewall

| Item | Value |
|---|---|
| Make and model | |
| Firmware | |
| Management address | |
| Credential | (name of the credential in the vault) |

## Interfaces and networks
- WAN:
- LAN:

## Rules that matter
| Name | From | To | Ports | Why |
|---|---|---|---|---|
| | | | | |

## VPN
- Type and users:

## Backups of the configuration
- Where and how often:
""",
    ),
    "wifi": (
        "Wi-Fi",
        """# Wi-Fi

| Network (SSID) | For | Security | VLAN | Credential |
|---|---|---|---|---|
| | staff | WPA3 | | |
| | guests | WPA2 | | |

## Access points
- Model, count, where:
- Controller:

## Notes
""",
    ),
    "m365": (
        "Microsoft 365 tenant",
        """# Microsoft 365 tenant

| Item | Value |
|---|---|
| Tenant name | |
| Tenant id | |
| Primary domain | |
| Global admins | (break-glass account in the vault) |
| Licences | |

## Security defaults and conditional access
- MFA:
- Conditional access policies:

## Mail
- MX / SPF / DKIM / DMARC:

## Backup of mailboxes and OneDrive
""",
    ),
    "application": (
        "Line-of-business application",
        """# Line-of-business application

| Item | Value |
|---|---|
| Name and version | |
| Vendor and support contact | |
| Licence | (see expirations) |
| Server or hosting | |
| Database | |

## Who uses it

## How to update it

## Known problems
""",
    ),
    "backup": (
        "Backup",
        """# Backup

| What | Tool | Where to | How often | Kept for |
|---|---|---|---|---|
| | | | | |

## Restore test
- Last tested:
- How:

## Alerts
- Who is told when a backup fails:
""",
    ),
}


def starter(kind: str) -> tuple[str, str]:
    """The title and text a new page of ``kind`` starts with (empty for a plain page)."""
    return STARTERS.get(kind, ("", ""))
