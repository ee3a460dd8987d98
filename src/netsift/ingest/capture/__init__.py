"""What a capture holds: the packets read (``packets``: pcap / pcapng into DNS records and the other
tables, loaded only when a capture is read), IP fragments put back together (``ipfrag``), TCP byte streams
reassembled (``tcp``), flows counted (``flows``), HTTP requests (``http``) and cleartext credentials
(``creds``). ``formats/pcap.py`` declares the format (its sniffing needs only the magic numbers below)."""

PCAP_MAGICS = frozenset(bytes.fromhex(m) for m in (
    "a1b2c3d4", "d4c3b2a1", "a1b23c4d", "4d3cb2a1", "a1b2cd34", "34cdb2a1"))
PCAPNG_MAGIC = bytes.fromhex("0a0d0d0a")
PCAPNG_BYTE_ORDERS = (bytes.fromhex("1a2b3c4d"), bytes.fromhex("4d3c2b1a"))
