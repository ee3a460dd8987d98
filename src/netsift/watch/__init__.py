"""``netsift watch``: follow logs and syslog as they grow, store them in small checkpointed transactions,
re-run detection on a cadence and alert on new or escalated findings.

- ``follow.py``: which files to follow (paths, directories, globs, ``-``) and ``tail -F`` semantics: appends,
  rotation by rename (the old file is finished, then the new one read), truncation, files that appear later.
- ``syslog.py``: the UDP/TCP syslog listener (RFC 3164 and 5424, octet-counted or newline framing); each
  message goes to the parser that declares its program (``Parser.syslog_programs``).
- ``batches.py``: one micro-batch = the new complete lines of every source, parsed by the format registry's
  parsers and written with their file records (offsets, hashes) in one transaction.
- ``alerts.py``: NDJSON alerts, the webhook (background thread, bounded queue, retries with backoff) and
  CEF over syslog; repeats of an open finding are suppressed until it escalates.
- ``health.py``: events/s, lag per source, rows rejected, last alert (status file, SIGUSR1, ``--json``).
- ``runner.py``: the loop tying them together (and, with ``--serve``, the dashboard in the same process).
"""
