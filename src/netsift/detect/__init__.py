"""Detectors: score what the baseline left unexplained, with reasons.

Each detector is a module with a thin gathering query (parameterised, aggregated in DuckDB) and a pure
scoring function (plain values in, scores and sub-scores out), registered in :data:`DETECTORS`::

    dga              clients asking for machine-generated names; per-client NXDOMAIN bursts
    tunnel           data carried in DNS names: many subdomains, encoded labels, TXT/NULL, bytes/hour
    beacon           (client, domain) on a clock, robust to jitter, missed beats and sleep gaps
    nxdomain_storm   a client's hour of NXDOMAIN answers against its own and the network's usual
    new_domain       first seen in the window, few clients, suspicious name
    rare_domain      asked by one or two clients over days, suspicious name
    behaviour_change activity at hours a client is normally silent, surges of unexplained questions
    cleartext_credential  a password sent in clear text (captures: HTTP, FTP, POP3, IMAP, SMTP, LDAP, ...)
    ids_alert        an IDS/IPS rule fired (Suricata, FortiGate IPS, PAN-OS threats), per host and rule
    bandwidth        a client's hour of bytes sent far above its own history (median / MAD)

:func:`run_detectors` runs them, applies the shared modifiers of :mod:`netsift.detect.scoring`
(prevalence, first seen; feed hits come later, from the enrichment step) and the client scope of
:mod:`netsift.detect.scope` (external clients marked, their beacon/behaviour_change findings dropped),
and returns the findings best first. Thresholds live in each module's ``SETTINGS``; :func:`settings_sections` gives
the whole tree (one config section per detector, plus ``modifiers``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netsift.config import Setting, Settings
from netsift.detect import (
    bandwidth,
    beacon,
    behaviour_change,
    brute_force,
    cleartext_credential,
    dga,
    ids_alert,
    login_after_failures,
    new_logon_source,
    off_hours_logon,
    password_spray,
    user_enumeration,
    new_domain,
    nxdomain_storm,
    rare_domain,
    scope,
    tunnel,
)
from netsift.detect.context import data_span, hours_sql
from netsift.detect.scoring import MODIFIER_SETTINGS, first_seen_change, prevalence_change
from netsift.findings import Finding, Producer
from netsift.store.base import Store

MODIFIERS = ("prevalence", "first_seen")


@dataclass(frozen=True)
class Detector:
    name: str  # "dga", "tunnel", ...
    description: str  # one line
    settings: tuple[Setting, ...]  # every threshold, with help and range (config section = name)
    run: Callable[[Store, Settings], list[Finding]]
    modifiers: tuple[str, ...] = MODIFIERS  # shared modifiers applied to its findings afterwards
    # client-level findings whose evidence is a set of names fold the leftovers they explain
    # (:attr:`netsift.findings.Producer.folds_names`)
    folds_names: str | None = None
    # the client scope marks findings about external clients as "a host on the internet asking this
    # resolver": DNS behaviour; a logon finding's client is the acting address, internal or not
    client_scope: bool = True
    # the recent hours of rows its findings need in an incremental run (None: its whole history)
    window_hours: float | None = None

    @property
    def producer(self) -> Producer:
        """This detector in the registry of everything that produces findings (stage ``detect``): its
        findings supersede the leftover row of their domain."""
        return Producer(self.name, "detect", self.description, self.settings, self.run,
                        supersedes_leftovers=True, folds_names=self.folds_names,
                        window_hours=self.window_hours)


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "dga",
        "Clients asking for machine-generated domain names, with NXDOMAIN bursts.",
        dga.SETTINGS,
        dga.run,
        folds_names="generated_or_nxdomain",
        window_hours=6,
    ),
    Detector(
        "tunnel",
        "Data carried in DNS names: many subdomains, encoded labels, TXT/NULL, bytes per hour.",
        tunnel.SETTINGS,
        tunnel.run,
        window_hours=24,
    ),
    Detector(
        "beacon",
        "A client asking for one service on a clock, despite jitter, missed beats and sleep.",
        beacon.SETTINGS,
        beacon.run,
        window_hours=24,
    ),
    Detector(
        "nxdomain_storm",
        "A client's hour of NXDOMAIN answers far above its own and the network's usual.",
        nxdomain_storm.SETTINGS,
        nxdomain_storm.run,
        folds_names="nxdomain_in_span",
        window_hours=6,
    ),
    Detector(
        "new_domain",
        "A domain new to the network, asked by few clients, with a suspicious name.",
        new_domain.SETTINGS,
        new_domain.run,
        modifiers=(),
        window_hours=24,
    ),
    Detector(
        "rare_domain",
        "A domain only one or two clients ask for, over days, with a suspicious name.",
        rare_domain.SETTINGS,
        rare_domain.run,
        modifiers=(),
        window_hours=None,
    ),
    Detector(
        "behaviour_change",
        "A client active at hours it is normally silent, or surging in unexplained questions.",
        behaviour_change.SETTINGS,
        behaviour_change.run,
        window_hours=None,
    ),
    Detector("brute_force", "Many failed logons from one source against a host (fail2ban: 5 in 10 minutes).",
             brute_force.SETTINGS, brute_force.run, modifiers=(), client_scope=False,
             window_hours=1),
    Detector("password_spray", "One source failing to log on to many accounts, a few tries each.",
             password_spray.SETTINGS, password_spray.run, modifiers=(), client_scope=False,
             window_hours=2),
    Detector("user_enumeration", "One source trying account names that do not exist (invalid users, Kerberos 0x6).",
             user_enumeration.SETTINGS, user_enumeration.run, modifiers=(), client_scope=False,
             window_hours=2),
    Detector("login_after_failures", "A successful logon from a source right after its failed ones.",
             login_after_failures.SETTINGS, login_after_failures.run, modifiers=(), client_scope=False,
             window_hours=2),
    Detector("new_logon_source", "An account logging on from a source it has never used.",
             new_logon_source.SETTINGS, new_logon_source.run, modifiers=(), client_scope=False,
             window_hours=None),
    Detector("off_hours_logon", "An account logging on at an hour of the day it never uses.",
             off_hours_logon.SETTINGS, off_hours_logon.run, modifiers=(), client_scope=False,
             window_hours=None),
    Detector(
        "cleartext_credential",
        "A password sent in clear text (HTTP Basic or form, FTP, POP3, IMAP, SMTP, LDAP, SOCKS5, Telnet).",
        cleartext_credential.SETTINGS,
        cleartext_credential.run,
        modifiers=(),
        client_scope=False,
        window_hours=1,
    ),
    Detector(
        "ids_alert",
        "An IDS/IPS rule firing for a host (Suricata, FortiGate IPS, PAN-OS threats), ranked by its priority.",
        ids_alert.SETTINGS,
        ids_alert.run,
        modifiers=(),
        client_scope=False,
        window_hours=24,
    ),
    Detector(
        "bandwidth",
        "A client sending far more bytes in an hour than its own history (median and MAD).",
        bandwidth.SETTINGS,
        bandwidth.run,
        modifiers=(),
        client_scope=False,
        window_hours=None,
    ),
)

BY_NAME = {d.name: d for d in DETECTORS}
PRODUCERS = tuple(d.producer for d in DETECTORS)


def settings_sections() -> dict[str, tuple[Setting, ...]]:
    """Config sections owned by detection: one per detector, plus ``modifiers`` and ``network`` (client
    scope, :mod:`netsift.detect.scope`)."""
    return {
        **{d.name: d.settings for d in DETECTORS},
        "modifiers": MODIFIER_SETTINGS,
        "network": scope.SETTINGS,
    }


def apply_modifiers(
    store: Store,
    findings: list[Finding],
    settings: Settings,
    applies: dict[str, tuple[str, ...]] | None = None,
) -> list[Finding]:
    """Apply the prevalence and first-seen modifiers to findings that name a domain (in place)."""
    applies = applies if applies is not None else {d.name: d.modifiers for d in DETECTORS}
    targets = [f for f in findings if f.domain and applies.get(f.kind, MODIFIERS)]
    if not targets:
        return findings
    span = data_span(store)
    # the watched time before a domain appeared counts hours that hold data, not the wall clock (an old log
    # stored years before the rest adds its hours, not the gap)
    stats = {
        dom: (clients, first, history)
        for dom, clients, first, history in store.rows(
            f"WITH hours AS ({hours_sql(store)}) "
            "SELECT registered_domain, clients, first_seen, "
            "(SELECT count(*) FROM hours WHERE h < date_trunc('hour', first_seen)) FROM domain_stats "
            f"WHERE {store.sql.in_list('registered_domain')}",
            [store.sql.list_param(sorted({f.domain for f in targets}))],
        )
    }
    for f in targets:
        clients, first, history = stats.get(f.domain, (None, None, None))
        kinds = applies.get(f.kind, MODIFIERS)
        if "prevalence" in kinds:
            f.apply_change("prevalence", *prevalence_change(clients, span.clients, settings))
        if "first_seen" in kinds and span.start is not None and span.end is not None:
            f.apply_change("first_seen", *first_seen_change(first, span.start, span.end, settings,
                                                            None if history is None else int(history)))
    return findings


def run_detectors(
    store: Store,
    settings_by_section: dict[str, dict] | None = None,
    only: list[str] | None = None,
) -> list[Finding]:
    """Run the detectors (all, or those named in ``only``) and return their findings, best first."""
    sections = settings_by_section or {}
    if only is not None:
        unknown = sorted(set(only) - set(BY_NAME))
        if unknown:
            raise ValueError(f"unknown detector(s) {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    chosen = [d for d in DETECTORS if only is None or d.name in only]
    findings: list[Finding] = []
    for d in chosen:
        findings.extend(d.run(store, Settings(d.settings, sections.get(d.name))))
    return finish(store, findings, sections, [d.name for d in chosen])


def finish(store: Store, findings: list[Finding], settings_by_section: dict[str, dict],
           ran: list[str]) -> list[Finding]:
    """The detect stage's last step over the findings of the detectors named in ``ran``: the client scope,
    then the shared modifiers; returns them best first."""
    sections = settings_by_section
    # external clients (a resolver serving the internet): marked, and their behaviour findings dropped
    unscoped = {d.name for d in DETECTORS if not d.client_scope}
    network = Settings(scope.SETTINGS, sections.get("network"))
    mine = [f for f in findings if f.kind in unscoped]
    # their clients are still tagged external (the sub-score the pages show), without the DNS wording
    scopes = scope.client_scopes((f.client for f in mine if f.client), network.local_networks)
    for f in mine:
        if f.client and scopes.get(f.client) == scope.EXTERNAL:
            f.sub_scores["external_client"] = 1.0
    findings = [*scope.apply_scope([f for f in findings if f.kind not in unscoped], network), *mine]
    apply_modifiers(
        store,
        findings,
        Settings(MODIFIER_SETTINGS, sections.get("modifiers")),
        {d.name: d.modifiers for d in DETECTORS if d.name in ran},
    )
    findings.sort(key=lambda f: (-f.score, f.kind, f.domain or "", f.client or ""))
    return findings
