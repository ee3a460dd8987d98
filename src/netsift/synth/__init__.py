"""Realistic synthetic DNS traffic with planted threats, for the demo, the tests and the benchmarks.

    events = generate(seed=7)                 # canonical rows + label + server, sorted by time
    PLANTED["beacon"]["client"]                # where each planted threat lives
    write(events, "pihole", "pihole.log")      # netsift.synth.writers: any native log format
    write_demo("demo/")                        # netsift.synth.scenario: the network split across formats

The same seed always gives the same frame. Benign behaviour is in :mod:`~netsift.synth.traffic` (over the
names of :mod:`~netsift.synth.domains`), threats in :mod:`~netsift.synth.threats`.
:mod:`~netsift.synth.events` resolves the benign questions, applies the Pi-hole's gravity list and cache,
and merges everything.
"""

from __future__ import annotations

from netsift.synth.events import answer_ttl, generate
from netsift.synth.scenario import write_demo
from netsift.synth.threats import EVENT_SCHEMA, PLANTED
from netsift.synth.writers import write, write_lines_fast

__all__ = ["EVENT_SCHEMA", "PLANTED", "answer_ttl", "generate", "write", "write_demo", "write_lines_fast"]
