"""The demo network's logons, beside its DNS: the DMZ's SSH server ``web01`` (``auth.log``, RFC 3164
syslog as Debian's rsyslog writes it) and the domain controller ``dc01`` (its Security log exported as
XML, as ``wevtutil qe Security /f:xml`` prints it).

Benign: administrators log on to web01 with their keys from the office at work hours (now and then a
mistyped password first, then sudo); AD workstations get Kerberos tickets (4768, 4769) and log on (4624)
at the DC every working hour, with the odd mistyped password (4771 0x18, 4625). Planted
(:data:`LOGON_PLANTED`): an SSH brute force from the internet on the last day (hundreds of failed
passwords and invalid users within half an hour) that ends in a successful password logon as
``deploy``, and a Kerberos password spray from workstation 10.0.0.66 across 60 domain accounts, one
pre-authentication failure each. Deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

AUTH_HOST = "web01"
DC = "dc01.corp.example"
ADMINS = {"alice": "10.0.0.35", "bob": "10.0.0.38", "deploy": "10.0.0.40"}
USERS = [f"user{i:02d}" for i in range(1, 61)] + ["alice", "bob", "carol", "dave", "erin", "frank"]
WORDLIST = ["root", "admin", "test", "oracle", "postgres", "ubuntu", "pi", "git", "ftp", "user", "guest",
            "deploy", "www-data", "mysql", "support", "jenkins"]

LOGON_PLANTED: dict[str, dict[str, Any]] = {
    "ssh_brute_force": {"name": "ssh_brute_force", "client": "203.0.113.77", "host": AUTH_HOST, "account": "deploy",
                        "kinds": ("login_after_failures", "brute_force", "user_enumeration")},
    "kerberos_spray": {"name": "kerberos_spray", "client": "10.0.0.66", "host": DC, "account": None,
                       "kinds": ("password_spray",)},
}
NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def _syslog(ts: datetime, program: str, pid: int, message: str) -> tuple[datetime, str]:
    return ts, f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S} {AUTH_HOST} {program}[{pid}]: {message}"


def auth_lines(seed: int, start: datetime, days: int) -> list[str]:
    """web01's auth.log, sorted by time."""
    rng = random.Random(seed * 31 + 1)
    out: list[tuple[datetime, str]] = []
    pid = 2000
    for day in range(days):
        for user, addr in ADMINS.items():
            for _ in range(rng.randint(2, 4)):
                ts = start + timedelta(days=day, hours=rng.uniform(8.5, 17.5))
                pid += 1
                port = rng.randint(40000, 65000)
                if rng.random() < 0.15:  # a mistyped password, then the key
                    out.append(_syslog(ts, "sshd", pid, f"Failed password for {user} from {addr} port {port} ssh2"))
                    ts += timedelta(seconds=4)
                out.append(_syslog(ts, "sshd", pid, f"Accepted publickey for {user} from {addr} port {port} ssh2: "
                                                    "ED25519 SHA256:q2a5uN3GxPmJ8yLr0kVwQe"))
                out.append(_syslog(ts, "sshd", pid, f"pam_unix(sshd:session): session opened for user {user}(uid=1001) "
                                                    "by (uid=0)"))
                if rng.random() < 0.5:
                    out.append(_syslog(ts + timedelta(minutes=2), "sudo", pid + 1,
                                       f"    {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
                                       "COMMAND=/usr/bin/systemctl status nginx"))
                out.append(_syslog(ts + timedelta(minutes=rng.randint(5, 50)), "sshd", pid,
                                   f"Disconnected from user {user} {addr} port {port}"))
    # the attack: the last day, 02:10 UTC, ~25 minutes of guessing, then a password that works
    planted = LOGON_PLANTED["ssh_brute_force"]
    attacker = planted["client"]
    ts = start + timedelta(days=days - 1, hours=2, minutes=10)
    for i in range(240):
        ts += timedelta(seconds=rng.uniform(3, 9))
        pid += 1
        port = rng.randint(30000, 60000)
        user = rng.choice(WORDLIST)
        if user in ("root", "deploy", "ftp"):
            out.append(_syslog(ts, "sshd", pid, f"Failed password for {user} from {attacker} port {port} ssh2"))
        else:
            out.append(_syslog(ts, "sshd", pid, f"Invalid user {user} from {attacker} port {port}"))
            out.append(_syslog(ts, "sshd", pid, f"Failed password for invalid user {user} from {attacker} port {port} ssh2"))
        out.append(_syslog(ts + timedelta(seconds=1), "sshd", pid,
                           f"Connection closed by authenticating user {user} {attacker} port {port} [preauth]"))
    ts += timedelta(seconds=20)
    out.append(_syslog(ts, "sshd", pid + 1, f"Accepted password for {planted['account']} from {attacker} port 51515 ssh2"))
    out.append(_syslog(ts, "sshd", pid + 1, f"pam_unix(sshd:session): session opened for user {planted['account']}"
                                            "(uid=1002) by (uid=0)"))
    out.sort(key=lambda item: item[0])
    return [line for _, line in out]


def _event(eid: int, ts: datetime, data: dict[str, object]) -> str:
    fields = "".join(f"<Data Name={quoteattr(k)}>{escape(str(v))}</Data>" for k, v in data.items())
    return (f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Security-Auditing' "
            "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"
            f"<EventID>{eid}</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>"
            f"<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='{ts:%Y-%m-%dT%H:%M:%S.%f}0Z'/>"
            f"<EventRecordID>0</EventRecordID><Correlation/><Execution ProcessID='652' ThreadID='4120'/>"
            f"<Channel>Security</Channel><Computer>{DC}</Computer><Security/></System>"
            f"<EventData>{fields}</EventData></Event>")


def security_events(seed: int, start: datetime, days: int) -> list[str]:
    """dc01's Security log as XML events, sorted by time."""
    rng = random.Random(seed * 31 + 2)
    out: list[tuple[datetime, str]] = []
    for day in range(days):
        if (start + timedelta(days=day)).weekday() >= 5:
            continue
        for n, user in enumerate(USERS[60:] + USERS[:10]):
            ip = f"::ffff:10.0.0.{21 + n % 14}"
            for _ in range(rng.randint(1, 3)):
                ts = start + timedelta(days=day, hours=rng.uniform(8, 18))
                if rng.random() < 0.08:  # a mistyped password first
                    out.append((ts, _event(4771, ts, {"TargetUserName": user, "ServiceName": "krbtgt/CORP",
                                                      "IpAddress": ip, "IpPort": 49700, "Status": "0x18",
                                                      "PreAuthType": 2})))
                    ts += timedelta(seconds=6)
                out.append((ts, _event(4768, ts, {"TargetUserName": user, "TargetDomainName": "CORP",
                                                  "ServiceName": "krbtgt", "IpAddress": ip, "IpPort": 49701,
                                                  "Status": "0x0"})))
                out.append((ts, _event(4624, ts + timedelta(seconds=1), {
                    "SubjectUserName": "-", "TargetUserName": user, "TargetDomainName": "CORP", "LogonType": 3,
                    "LogonProcessName": "Kerberos", "AuthenticationPackageName": "Kerberos",
                    "WorkstationName": "-", "IpAddress": ip.removeprefix("::ffff:"), "IpPort": 0})))
    planted = LOGON_PLANTED["kerberos_spray"]
    ts = start + timedelta(days=days - 1, hours=13, minutes=5)
    for user in USERS[:60]:
        ts += timedelta(seconds=rng.uniform(10, 30))
        out.append((ts, _event(4771, ts, {"TargetUserName": user, "ServiceName": "krbtgt/CORP",
                                          "IpAddress": f"::ffff:{planted['client']}", "IpPort": rng.randint(49000, 60000),
                                          "Status": "0x18", "PreAuthType": 2})))
    out.sort(key=lambda item: item[0])
    return [text for _, text in out]


def write_logons(directory: Path, seed: int, start: datetime, days: int) -> list[Path]:
    """``auth.log`` and ``dc01-security.xml`` in ``directory``; each file's mtime is its last event."""
    start = start.astimezone(UTC).replace(tzinfo=None) if start.tzinfo else start
    auth = directory / "auth.log"
    auth.write_text("\n".join(auth_lines(seed, start, days)) + "\n", encoding="utf-8")
    xml = directory / "dc01-security.xml"
    xml.write_text('<?xml version="1.0" encoding="utf-8"?>\n<Events>\n' + "\n".join(security_events(seed, start, days))
                   + "\n</Events>\n", encoding="utf-8")
    return [auth, xml]
