"""Outputs: terminal tables (console), machine formats (machine), progress bars (progress), and the
single-file HTML report (html)."""
