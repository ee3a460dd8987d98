"""The rendered message text of a Windows Security event -> its EventData fields.

Event Viewer's "Save as CSV", ``Get-WinEvent | Export-Csv`` and many SIEM exports carry an event's fields
only inside its English message ("An account failed to log on. ... Account For Which Logon Failed:
Account Name: bob ... Source Network Address: 10.0.0.5 ..."). This module reads that text back into the
names an EVTX file's EventData uses (``TargetUserName``, ``IpAddress``, ``LogonType``, ``Status``, ...), so
``windows_events.logon_rows`` maps a CSV export exactly as it maps the EVTX it came from.

The text is cut at every known label ("Account Name:", "Source Network Address:", ...), wherever line breaks
and tabs went (Windows writes a label per line, tab-indented under its section; SIEMs often flatten the text
to one line): a label with no value opens a section ("Subject:", "New Logon:"), a label with a value is a
field of the open section. Which section holds the account depends on the event (the table ``_FIELDS``):
4624's "New Logon", 4625's "Account For Which Logon Failed", 4648's "Account Whose Credentials Were Used".
Only the English rendering is read; a message in another language yields no fields (the row keeps its event
id, time and computer).
"""

from __future__ import annotations

import re

from netsift.ingest.windows_events import mssql_fields

_SECTIONS = (
    "Subject", "New Logon", "Account For Which Logon Failed", "Account Whose Credentials Were Used",
    "Logon Information", "Failure Information", "Process Information", "Network Information",
    "Detailed Authentication Information", "Target Server", "Account Information", "Service Information",
    "Additional Information", "Certificate Information",
)
_LABELS = (
    "Security ID", "Account Name", "Account Domain", "Logon ID", "Logon GUID", "Logon Type",
    "Restricted Admin Mode", "Remote Credential Guard", "Virtual Account", "Elevated Token",
    "Impersonation Level", "Linked Logon ID", "Network Account Name", "Network Account Domain",
    "Failure Reason", "Status", "Sub Status", "Caller Process ID", "Caller Process Name", "Process ID",
    "Process Name", "Workstation Name", "Source Network Address", "Source Port", "Network Address", "Port",
    "Logon Process", "Authentication Package", "Transited Services", "Package Name (NTLM only)", "Key Length",
    "Target Server Name", "Supplied Realm Name", "User ID", "Service Name", "Service ID", "Client Address",
    "Client Port", "Ticket Options", "Result Code", "Failure Code", "Ticket Encryption Type",
    "Pre-Authentication Type", "Logon Account", "Source Workstation", "Error Code", "Privileges",
    "Certificate Issuer Name", "Certificate Serial Number", "Certificate Thumbprint",
)
# longest first, so "Network Account Name" is one label and not "Account Name" inside it
_CUT = re.compile(r"(?<![^\s.])(" + "|".join(re.escape(x) for x in sorted(_SECTIONS + _LABELS, key=len, reverse=True))
                  + r"):")
_SECTION_SET = frozenset(_SECTIONS)
# labels whose value is one word (a number, a code, an address): the rest of a flattened text is not theirs
_ONE_WORD = frozenset({
    "Security ID", "Logon ID", "Logon Type", "Linked Logon ID", "Status", "Sub Status", "Caller Process ID",
    "Process ID", "Source Network Address", "Source Port", "Network Address", "Port", "Key Length",
    "Client Address", "Client Port", "Ticket Options", "Result Code", "Failure Code", "Ticket Encryption Type",
    "Pre-Authentication Type", "Error Code", "Logon GUID", "User ID", "Service ID", "Elevated Token",
    "Virtual Account", "Restricted Admin Mode", "Remote Credential Guard",
})
_TRAILER = re.compile(r"\s(?=This event is generated\b)")  # the explanation Windows appends to some messages
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
ANY = None  # a field found in any section (or none)

# EventData name -> where its value is, first found wins: (event ids or ANY, section or ANY, label)
_ACCOUNT_SECTION = {4624: "New Logon", 4625: "Account For Which Logon Failed", 4634: "Subject", 4647: "Subject",
                    4648: "Account Whose Credentials Were Used", 4768: "Account Information",
                    4769: "Account Information", 4771: "Account Information"}
_FIELDS: dict[str, tuple[tuple[frozenset[int] | None, str | None, str], ...]] = {
    "TargetUserName": (*((frozenset({e}), s, "Account Name") for e, s in _ACCOUNT_SECTION.items()),
                       (frozenset({4776}), ANY, "Logon Account")),
    "TargetDomainName": (*((frozenset({e}), s, "Account Domain") for e, s in _ACCOUNT_SECTION.items()),
                         (frozenset({4768, 4771}), ANY, "Supplied Realm Name")),
    "SubjectUserName": ((ANY, "Subject", "Account Name"),),
    "SubjectDomainName": ((ANY, "Subject", "Account Domain"),),
    "IpAddress": ((ANY, ANY, "Source Network Address"), (ANY, ANY, "Network Address"), (ANY, ANY, "Client Address")),
    "IpPort": ((ANY, ANY, "Source Port"), (ANY, ANY, "Port"), (ANY, ANY, "Client Port")),
    "WorkstationName": ((ANY, ANY, "Workstation Name"),),
    "Workstation": ((ANY, ANY, "Source Workstation"),),
    "LogonType": ((ANY, ANY, "Logon Type"),),
    "Status": ((ANY, ANY, "Status"), (ANY, ANY, "Result Code"), (ANY, ANY, "Failure Code"), (ANY, ANY, "Error Code")),
    "SubStatus": ((ANY, ANY, "Sub Status"),),
    "FailureReason": ((ANY, ANY, "Failure Reason"),),
    "AuthenticationPackageName": ((ANY, ANY, "Authentication Package"),),
    "ServiceName": ((ANY, "Service Information", "Service Name"),),
    "TargetServerName": ((ANY, ANY, "Target Server Name"),),
    "PrivilegeList": ((ANY, ANY, "Privileges"),),
}
_MSSQL_USER = re.compile(r"Login failed for user '([^']*)'\.?\s*(?:Reason:\s*)?(.*)", re.S)


def labelled(text: str) -> list[tuple[str | None, str, str]]:
    """(section, label, value) for every field of the message, in order."""
    out = []
    section: str | None = None
    text = _TRAILER.split(text, maxsplit=1)[0]
    cuts = list(_CUT.finditer(text))
    for i, m in enumerate(cuts):
        end = cuts[i + 1].start() if i + 1 < len(cuts) else len(text)
        label, value = m.group(1), text[m.end():end]
        value = _BLANK_LINE.split(value, maxsplit=1)[0]  # a paragraph after the last field is not its value
        value = " ".join(value.split()[:1] if label in _ONE_WORD else value.split())
        if label in _SECTION_SET and (not value or label == "Additional Information"):
            section = label
            continue
        out.append((section, label, value))
    return out


def message_fields(event_id: int | None, text: str | None) -> dict[str, str]:
    """The EventData fields (``windows_events.DATA_FIELDS`` names) a rendered message carries."""
    if not text:
        return {}
    if event_id == 18456:
        m = _MSSQL_USER.search(text)
        return {k: v for k, v in mssql_fields(m.group(1), " ".join(m.group(2).split())).items() if v} if m else {}
    fields = labelled(text)
    out: dict[str, str] = {}
    for name, places in _FIELDS.items():
        for ids, section, label in places:
            if ids is not None and event_id not in ids:
                continue
            value = next((v for s, lab, v in fields if lab == label and (section is None or s == section)), None)
            if value:
                out[name] = value.rstrip(".").lower() if name == "FailureReason" else value
                break
    return out
