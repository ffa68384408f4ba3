"""Which addresses the fetcher may connect to, and connections pinned to the address that was checked.

The check happens inside urllib3's connection set-up, so every connection (first request and every redirect
hop alike) resolves the host once, refuses it if any address it resolves to is not public, and connects to
exactly the address it checked: there is no window for a DNS answer to change in between.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from workers.errors import BlockedAddress

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not global, though older Pythons' tables miss them: IETF protocol assignments (Oracle Cloud's metadata
# service is 192.0.0.192).
_ALSO_BLOCKED = (ipaddress.IPv4Network("192.0.0.0/24"),)


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses; IPv4 embedded in IPv6 is judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    elif any(ip in network for network in _ALSO_BLOCKED):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve_public_address(host: str, port: int) -> str:
    """Resolve ``host`` (a name or an IP in any spelling) and return an address that is safe to connect to.

    Refuses the host if *any* of its addresses is not public, so that a name cannot mix a public and a
    private answer.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    blocked = [a for a in addresses if not is_public_address(a)]
    if blocked:
        raise BlockedAddress(f"{host} resolves to {blocked[0]}, a non-public address")
    return addresses[0]


class _PinnedConnectionMixin:
    _dns_host: str
    port: int

    def _new_conn(self) -> socket.socket:
        checked = resolve_public_address(self._dns_host, self.port)
        name, self._dns_host = self._dns_host, checked
        try:
            return super()._new_conn()  # type: ignore[misc, no-any-return]
        finally:
            self._dns_host = name  # TLS still verifies the certificate against the name


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """A requests transport adapter whose connections only ever reach public addresses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": PinnedHTTPConnectionPool,
            "https": PinnedHTTPSConnectionPool,
        }
