"""A real authoritative DNS server on loopback for the verified-domain tests.

dnslib's ``DNSServer`` answers UDP queries on 127.0.0.1 (a free port chosen by the OS) from
a small in-memory zone the test publishes TXT records into. Tater's resolver (dnspython) is
pointed at it through ``TATER_DNS_NAMESERVERS``: the whole path (query on the wire, answer
parsing, NXDOMAIN, multi-string TXT records, a dead server) is the real one, and nothing
leaves the machine.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):
    """Authoritative answers for the names the test published; NXDOMAIN for the rest."""

    def __init__(self) -> None:
        self._records: dict[str, list[list[str]]] = {}
        self._lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []
        self.servfail = False

    def publish(self, name: str, *strings: str) -> None:
        """Add one TXT record (several character-strings when more than one is given)."""
        with self._lock:
            self._records.setdefault(_key(name), []).append(list(strings))

    def clear(self, name: str) -> None:
        with self._lock:
            self._records.pop(_key(name), None)

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply(ra=0, aa=1)
        qname = _key(str(request.q.qname))
        with self._lock:
            self.queries.append((qname, QTYPE[request.q.qtype]))
            records = [list(r) for r in self._records.get(qname, [])]
        if self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
        elif not records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for strings in records:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(strings), ttl=60))
        return reply  # an existing name without TXT: NOERROR, no answer


def _key(name: str) -> str:
    return name.rstrip(".").lower()


class LoopbackDNS:
    """``with LoopbackDNS() as dns:`` — a started server; ``dns.nameserver`` is its
    ``"127.0.0.1:<port>"`` for ``TATER_DNS_NAMESERVERS``."""

    def __init__(self) -> None:
        self.zone = Zone()
        self._server = DNSServer(self.zone, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda *a: None))
        self.port = self._server.server.server_address[1]
        self.nameserver = f"127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackDNS:
        self._server.start_thread()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.stop()
        self._server.server.server_close()


def free_udp_port() -> int:
    """A loopback UDP port nobody listens on (for the "DNS server down" case)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
