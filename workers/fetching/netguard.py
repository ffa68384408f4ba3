"""Which addresses the fetcher may connect to, and connections pinned to the address that was checked.

The check happens inside urllib3's connection set-up, so every connection (first request and every redirect
hop alike) resolves the host once, refuses it if any address it resolves to is not allowed, and connects to
exactly the address it checked: there is no window for a DNS answer to change in between.

What is allowed is an :class:`AddressPolicy`: public addresses always; private space too when the operator
allows it (all of it, or listed networks); cloud metadata addresses only when a listed network names them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from workers.errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not global, though Python's tables miss them: IETF protocol assignments (Oracle Cloud's metadata service is
# 192.0.0.192), the deprecated 6to4 relay anycast, Azure's wire server, IPv6 site-local and documentation.
_ALSO_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "192.0.0.0/24", "192.88.99.0/24", "168.63.129.16/32", "fec0::/10", "3fff::/20",
))
#: Where clouds answer for instance metadata and credentials: never reached unless a network in
#: READQ_ALLOWED_NETWORKS lies inside one of these (names it), whatever READQ_ALLOW_PRIVATE_NETWORKS says.
METADATA_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16",  # link-local: AWS, GCP, Azure, OpenStack 169.254.169.254; AWS ECS 169.254.170.2
    "100.100.100.200/32",  # Alibaba Cloud
    "192.0.0.192/32",  # Oracle Cloud
    "168.63.129.16/32",  # Azure wire server
    "fd00:ec2::/32",  # AWS IPv6 (fd00:ec2::254)
    "fd20:ce::254/128",  # GCP IPv6
    "fe80::/10",  # IPv6 link-local
))


def _effective(address: str) -> IPAddress:
    """The address as the network sees it: IPv4 embedded in IPv6 (mapped, 6to4, Teredo, NAT64) as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return _effective(str(embedded))
    return ip


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses; IPv4 embedded in IPv6 is judged as IPv4."""
    ip = _effective(address)
    if any(ip in network for network in _ALSO_BLOCKED):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses, plus ``allowed_networks`` (or all non-public space with ``allow_private``); a metadata
    address only if one of ``allowed_networks`` lies within its metadata network."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    def permits(self, address: str) -> bool:
        ip = _effective(address)
        metadata = next((network for network in METADATA_NETWORKS if ip in network), None)
        if metadata is not None:
            return any(ip in network and network.subnet_of(metadata)  # type: ignore[arg-type]
                       for network in self.allowed_networks if network.version == metadata.version)
        if self.allow_private or is_public_address(address):
            return True
        return any(ip in network for network in self.allowed_networks)


PUBLIC_ONLY = AddressPolicy()


def resolve_allowed_address(host: str, port: int, policy: AddressPolicy = PUBLIC_ONLY) -> str:
    """Resolve ``host`` (a name or an IP in any spelling) and return an address that ``policy`` permits.

    Refuses the host if *any* of its addresses is not permitted, so that a name cannot mix a public and a
    private answer.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    blocked = [a for a in addresses if not policy.permits(a)]
    if blocked:
        raise BlockedAddress(f"{host} resolves to {blocked[0]}, an address readq may not reach")
    return addresses[0]


class _PinnedConnectionMixin:
    _dns_host: str
    port: int
    address_policy: AddressPolicy = PUBLIC_ONLY

    def _new_conn(self) -> socket.socket:
        checked = resolve_allowed_address(self._dns_host, self.port, self.address_policy)
        name, self._dns_host = self._dns_host, checked
        try:
            return super()._new_conn()  # type: ignore[misc, no-any-return]
        finally:
            self._dns_host = name  # TLS still verifies the certificate against the name


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class GuardedAdapter(HTTPAdapter):
    """A requests transport adapter whose connections only ever reach addresses its policy permits."""

    def __init__(self, policy: AddressPolicy = PUBLIC_ONLY, **kwargs: Any) -> None:
        self.policy = policy  # before HTTPAdapter.__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        attributes = {"address_policy": self.policy}
        http = type("PinnedHTTPConnection", (PinnedHTTPConnection,), attributes)
        https = type("PinnedHTTPSConnection", (PinnedHTTPSConnection,), attributes)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
