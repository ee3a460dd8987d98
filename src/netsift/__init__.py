"""netsift: ingest DNS and security logs, explain normal away, rank what is left with reasons."""

__version__ = "0.1.0"
