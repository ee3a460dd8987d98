"""What a capture holds besides DNS: IP fragments put back together (``ipfrag``), TCP byte streams
reassembled (``tcp``), flows counted (``flows``), HTTP requests (``http``) and cleartext credentials
(``creds``). ``formats/pcap.py`` reads the packets and hands them over; nothing here reads a file."""
