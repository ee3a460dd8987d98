"""A corpus of malformed and hostile inputs, generated into a directory (nothing binary is stored in git).

``python -m tests.hostile.corpus DIR`` writes it; ``build(DIR)`` returns the cases. Each case says what a
sane ingest of it must give: the status (``ingested`` or ``error``, or either), and lines that must end
up rejected with a reason containing some words. Covered: empty, binary and random files; truncated
gzip/bz2/xz/zstd (header and mid-stream); UTF-16 without BOM, Latin-1; CR-only and mixed line endings;
NUL bytes and terminal control sequences in lines, in names and in clients (raw and JSON-escaped); names
longer than 253 characters and labels longer than 63; HTML/JS in names; a huge run of blank lines before
the data; a Zeek header without rows, a pcap header only, a truncated pcap; one unterminated line; every
format's sample with garbage appended, with a NUL line, with an escape sequence and with an over-long
name; and (``long_line_mb``) one line of tens of MB.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = {  # format -> a valid sample of it, and a name that sample holds
    "bind": ("bind/valid.log", "www.example.com"),
    "windows_dns": ("windows_dns/valid.log", "(3)www(7)example(3)com(0)"),
    "zeek_tsv": ("zeek_tsv/valid.log", "www.example.com"),
    "zeek_json": ("zeek_json/valid.log", "www.example.com"),
    "csv_columns": ("csv_columns/valid.csv", "www.example.com"),
    "umbrella_csv": ("umbrella_csv/valid.log", "www.example.com"),
    "tcpdump": ("tcpdump/valid_tttt.out", "www.example.com"),
    "pihole": ("pihole/valid.log", "www.example.com"),
    "pihole_json": ("pihole_json/v6_valid.json", "ads.tracker.example"),
}
PIHOLE = "May  9 02:36:{s:02d} dnsmasq[1]: query[A] {name} from {client}\n"
LONG_NAME = ".".join(["l" * 60] * 5) + ".example.com"  # 317 characters, labels within 63
LONG_LABEL_NAME = "k" * 64 + ".example.com"
CONTROL = "control character"
TOO_LONG = "longer than"


@dataclass
class Case:
    name: str
    status: str | None = "ingested"  # None: any status (ingested, error, waiting for a last newline)
    rejects: list[str] = field(default_factory=list)  # each must appear in some rejected line's reason
    message: str | None = None  # words the one-line message must hold
    rows: int | None = None  # exact rows, where known
    format: str | None = None  # --format to give (None: sniffed)
    year: int = 2024

    def path(self, root: Path) -> Path:
        return root / self.name


def pihole(n: int, start: int = 0, name: str = "host{i}.example.com", client: str = "10.0.0.{c}") -> str:
    return "".join(PIHOLE.format(s=i % 60, name=name.format(i=i), client=client.format(c=i % 7))
                   for i in range(start, start + n))


def _wire(name: str) -> str:
    return "".join(f"({len(label)}){label}" for label in name.split(".")) + "(0)"


def _pcap(frames: int, *, cut: int | None = None) -> bytes:
    """A little-endian pcap of ``frames`` DNS questions over UDP/IPv4 (built by hand, no dpkt)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(frames):
        qname = b"".join(bytes([len(p)]) + p for p in f"host{i}.example.com".encode().split(b".")) + b"\0"
        dns = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
        udp = struct.pack(">HHHH", 40000, 53, 8 + len(dns), 0) + dns
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([10, 0, 0, 5]), bytes([192, 0, 2, 53])) + udp
        frame = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame)
    data = b"".join(out)
    return data[:cut] if cut is not None else data


def _insert_after_first_data_line(text: str, extra: str) -> str:
    lines = text.splitlines(keepends=True)
    at = next((i + 1 for i, ln in enumerate(lines) if ln.strip() and not ln.startswith(("#", "{", "Timestamp"))
               and any(ch.isdigit() for ch in ln[:30])), min(2, len(lines)))
    return "".join(lines[:at] + [extra if extra.endswith("\n") else extra + "\n"] + lines[at:])


def build(root: Path, long_line_mb: int = 0) -> list[Case]:
    """Write the corpus into ``root``; returns its cases. ``long_line_mb``: also write ``long_line.log``,
    one line of that many MB between valid lines (for the memory test)."""
    root.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(9)
    cases: list[tuple[Case, bytes]] = []

    def add(case: Case, data: bytes | str) -> None:
        cases.append((case, data.encode() if isinstance(data, str) else data))

    base = pihole(200)
    compressors = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
                   "zst": lambda b: zstandard.ZstdCompressor().compress(b)}
    names = {"gz": "gzip", "bz2": "bzip2", "xz": "xz", "zst": "zstd"}
    big = pihole(60_000).encode()
    # -- empty, binary, random
    add(Case("empty.log", "error", message="empty"), b"")
    add(Case("only_blank_lines.log", None), b"\n \n\t\n" * 5000)
    add(Case("random.bin", "error"), rnd.randbytes(65536))
    add(Case("nul_only.bin", "error", message="binary"), bytes(20000))
    add(Case("elf.bin", "error"), b"\x7fELF\x02\x01\x01" + bytes(9) + rnd.randbytes(4000))
    add(Case("evtx.evtx", "error", message="EVTX"), b"ElfFile\x00" + bytes(4088))
    # -- compressed: a cut header, and a stream cut half way
    for ext, compress in compressors.items():
        whole = compress(big)
        add(Case(f"header_cut.log.{ext}", "error", message=f"truncated or corrupt {names[ext]} data"), whole[:6])
        add(Case(f"half.log.{ext}", "ingested", rejects=["truncated"], message="truncated"), whole[: len(whole) // 2])
    add(Case("garbage_after_gzip_magic.log.gz", "error", message="gzip"), b"\x1f\x8b" + rnd.randbytes(300))
    # -- encodings and line endings
    add(Case("utf16le_no_bom.log", rows=200), base.encode("utf-16-le"))
    add(Case("utf16be_no_bom.log", rows=200), base.encode("utf-16-be"))
    add(Case("latin1.log", rows=50), pihole(50, name="caf\u00e9{i}.example.com").encode("latin-1"))
    add(Case("cr_only.log", rows=200), base.replace("\n", "\r"))
    add(Case("mixed_endings.log", rows=200),
        "".join(ln + ("\r\n", "\n", "\r")[i % 3] for i, ln in enumerate(base.splitlines())))
    add(Case("unterminated_single_line.log", None), pihole(1).rstrip("\n"))  # may wait for its newline
    add(Case("blank_lines_first.log", rows=200), "\n" * 300_000 + base)
    add(Case("blank_crlf_lines_first.log.gz", rows=200), gzip.compress(b"\r\n" * 100_000 + base.encode()))
    # -- hostile lines inside a valid log
    add(Case("nul_mid_line.log", rows=199, rejects=[CONTROL]),
        base.replace("query[A] host7.", "query[A]\x00 host7.", 1))
    add(Case("escape_in_name.log", rows=199, rejects=[CONTROL]),
        base.replace("host9.example.com", "x\x1b]0;owned\x07.example.com", 1))
    add(Case("escape_in_client.log", rows=199, rejects=[CONTROL]),
        base.replace("host11.example.com from 10.0.0.4", "host11.example.com from \x1b[2J10.0.0.4", 1))
    add(Case("escape_in_unterminated_last_line.log", None), base + PIHOLE.format(s=1, name="\x1b[2J.x", client="1").rstrip())
    add(Case("c1_control.log", rows=199, rejects=[CONTROL]),
        base.replace("host13.example.com", "x\u009b31m.example.com", 1))
    add(Case("names_over_253.log", rows=199, rejects=["253"]),
        base.replace("host3.example.com", LONG_NAME, 1))
    add(Case("name_of_253_with_dot.log", rows=200),
        base.replace("host3.example.com", ".".join(["m" * 63] * 4)[:253] + ".", 1))
    add(Case("label_over_63.log", rows=199, rejects=["label"]), base.replace("host5.example.com", LONG_LABEL_NAME, 1))
    add(Case("html_js_names.log"),  # a client with spaces is a malformed line
        pihole(1, name="<script>alert(1)</script>.example.com") + pihole(1, name='"><img src=x onerror=alert(1)>.test')
        + pihole(1, client="<a href=//evil.test>x</a>") + pihole(1, name="javascript:alert(1).example.com"))
    add(Case("long_line_3mb.log", rows=200, rejects=[TOO_LONG]), base + "x" * 3_000_000 + "\n" + pihole(0))
    add(Case("junk_qtype.log", rows=199, rejects=["unknown query type"]),
        base.replace("query[A] host2.", "query[A]] host2.", 1))
    # -- structure only
    zeek_header = "".join(ln for ln in (DATA / "zeek_tsv/valid.log").read_text().splitlines(keepends=True)
                          if ln.startswith("#") and not ln.startswith("#close"))
    add(Case("zeek_header_only.log", None, format="zeek_tsv"), zeek_header)
    add(Case("pcap_header_only.pcap", None), _pcap(0))
    add(Case("pcap_truncated.pcap", "ingested", rejects=["truncated"]), _pcap(20, cut=len(_pcap(20)) - 30))
    add(Case("pcap_garbage_after_header.pcap", None), _pcap(0) + rnd.randbytes(5000))
    add(Case("pcapng_header_cut.pcapng", None), b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c")
    add(Case("pcap_many.pcap", rows=50), _pcap(50))
    # -- every format's sample: with garbage appended, a NUL line, an escape sequence, an over-long name
    for fmt, (sample, name) in SAMPLES.items():
        text = (DATA / sample).read_text(encoding="utf-8", errors="replace")
        forced = fmt if fmt in ("csv_columns", "umbrella_csv", "pihole_json") else None
        add(Case(f"{fmt}_garbage_appended.txt", None, format=forced),
            text.encode() + rnd.randbytes(3000) + b"\n<<garbage>>\n" + bytes(range(256)))
        if fmt == "pihole_json":
            doc = json.loads(text)
            doc["queries"][0]["domain"] = "esc\u001b]0;x\u0007.example"
            doc["queries"][1]["domain"] = LONG_NAME
            add(Case("pihole_json_hostile_fields.json", "ingested", rejects=[CONTROL, "253"], format=fmt),
                json.dumps(doc))
            continue
        line = next(ln for ln in text.splitlines() if name in ln)
        add(Case(f"{fmt}_nul_line.txt", "ingested", rejects=[CONTROL], format=fmt),
            _insert_after_first_data_line(text, line.replace(name, "nul\x00" + name, 1)))
        add(Case(f"{fmt}_escape_line.txt", "ingested", rejects=[CONTROL], format=fmt),
            _insert_after_first_data_line(text, line.replace(name, "\x1b[2J\x1b]0;t\x07" + name, 1)))
        long = _wire(LONG_NAME) if fmt == "windows_dns" else LONG_NAME
        add(Case(f"{fmt}_long_name.txt", "ingested", rejects=["253"], format=fmt), text.replace(name, long))
    zeek_json = json.loads((DATA / "zeek_json/valid.log").read_text().splitlines()[0])
    add(Case("zeek_json_escaped_controls.log", "ingested", rejects=[CONTROL], format="zeek_json"),
        json.dumps({**zeek_json, "query": "a\u0000b.example.com"}) + "\n"
        + json.dumps({**zeek_json, "id.orig_h": "\u001b[2J10.0.0.1"}) + "\n" + json.dumps(zeek_json) + "\n")
    if long_line_mb:
        with open(root / "long_line.log", "wb") as fh:
            fh.write(base.encode())
            block = b"y" * (1 << 20)
            for _ in range(long_line_mb):
                fh.write(block)
            fh.write(b"\n" + base.encode())
    for case, data in cases:
        case.path(root).write_bytes(data)
    return [case for case, _ in cases]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    built = build(target, long_line_mb=int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(f"{len(built)} files in {target}")
