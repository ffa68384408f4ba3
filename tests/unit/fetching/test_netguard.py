from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from config.settings import Settings
from workers.errors import BlockedAddress
from workers.fetching.netguard import (
    METADATA_NETWORKS,
    AddressPolicy,
    _effective,
    is_public_address,
    resolve_allowed_address,
)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "100.100.100.200", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.0.192",
    "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1",
    # Python's tables call these global: site-local, documentation, 6to4 relay anycast, Azure's wire server.
    "fec0::1", "3fff::1", "3fff:fff:ffff::1", "192.88.99.1", "168.63.129.16", "::ffff:168.63.129.16",
])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1",
                                  "localhost", "::ffff:127.0.0.1", "::1", "0"])
def test_every_spelling_of_loopback_is_blocked_after_resolution(host: str) -> None:
    with pytest.raises(BlockedAddress):
        resolve_allowed_address(host, 80)


def test_a_public_literal_resolves_to_itself() -> None:
    assert resolve_allowed_address("8.8.8.8", 443) == "8.8.8.8"


ALLOW_PRIVATE = AddressPolicy(allow_private=True)
METADATA = ["169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "168.63.129.16",
            "fd00:ec2::254", "fd20:ce::254", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "fe80::1"]


@pytest.mark.parametrize("address", METADATA)
def test_allowing_private_networks_keeps_metadata_addresses_blocked(address: str) -> None:
    assert ALLOW_PRIVATE.permits("127.0.0.1") and ALLOW_PRIVATE.permits("10.0.0.1")
    assert not ALLOW_PRIVATE.permits(address)
    assert not AddressPolicy(allowed_networks=networks("0.0.0.0/0,::/0,169.0.0.0/8")).permits(address)


def test_a_metadata_address_is_reached_only_when_named() -> None:
    named = AddressPolicy(allowed_networks=networks("169.254.169.254/32"))
    assert named.permits("169.254.169.254")
    assert not named.permits("169.254.170.2")
    assert not named.permits("10.0.0.1")


def test_allowed_networks_let_in_exactly_those_networks() -> None:
    policy = AddressPolicy(allowed_networks=networks("127.0.0.0/8, 10.1.0.0/16"))
    assert policy.permits("127.0.0.2") and policy.permits("10.1.200.3") and policy.permits("::ffff:127.0.0.1")
    assert not policy.permits("10.2.0.1") and not policy.permits("192.168.1.1") and not policy.permits("::1")
    assert policy.permits("8.8.8.8")
    with pytest.raises(BlockedAddress, match=r"192\.168"):
        resolve_allowed_address("192.168.0.1", 80, policy)
    assert resolve_allowed_address("0x7f.1", 80, policy) == "127.0.0.1"


def test_allowed_networks_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READQ_ALLOWED_NETWORKS", "127.0.0.0/8,10.1.0.0/16, fd00::/8")
    assert [str(n) for n in Settings(_env_file=None).allowed_networks] == ["127.0.0.0/8", "10.1.0.0/16", "fd00::/8"]
    monkeypatch.setenv("READQ_ALLOWED_NETWORKS", "10.1.0.0/33")
    with pytest.raises(ValidationError, match="allowed_networks"):
        Settings(_env_file=None)


def _independently_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    v4 = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
    return (v4.is_global and not v4.is_multicast and not v4.is_reserved
            and not any(v4 in ipaddress.ip_network(n) for n in (
                "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                "192.0.0.0/24", "192.88.99.0/24", "168.63.129.16/32", "0.0.0.0/8", "224.0.0.0/3", "::/128",
                "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "3fff::/20", "2001:db8::/32")
                    if v4.version == ipaddress.ip_network(n).version))


def _spellings(value: int) -> list[str]:
    """Ways to write one IPv4 address that resolvers accept: dotted, one number, hex, octal, short forms,
    IPv4-mapped, NAT64 and 6to4 IPv6."""
    a, b, c, d = value.to_bytes(4, "big")
    return [f"{a}.{b}.{c}.{d}", str(value), hex(value), "0" + oct(value)[2:], f"{a}.{(b << 16) | (c << 8) | d}",
            f"{a}.{b}.{(c << 8) | d}", f"0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}", f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
            f"::ffff:{a}.{b}.{c}.{d}", f"64:ff9b::{a}.{b}.{c}.{d}", f"2002:{a:02x}{b:02x}:{c:02x}{d:02x}::1"]


INTERESTING_V4 = st.sampled_from([0x7F000001, 0x0A000001, 0xA9FEA9FE, 0xC0A80101, 0x64400001, 0xC0000000,
                                  0xC0586301, 0xA83F8110, 0x00000000, 0xE0000001, 0xFFFFFFFF, 0x08080808])


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(INTERESTING_V4, st.integers(0, 2**32 - 1)), private=st.booleans())
def test_no_spelling_of_an_address_gets_past_the_guard(value: int, private: bool) -> None:
    policy = AddressPolicy(allow_private=private)
    for spelling in _spellings(value):
        try:
            address = resolve_allowed_address(spelling, 80, policy)
        except BlockedAddress:
            continue
        except OSError:  # not an address the resolver accepts: nothing to connect to
            continue
        if private:
            assert not any(_effective(address) in n for n in METADATA_NETWORKS), spelling
        else:
            assert _independently_public(str(_effective(address))), spelling


@settings(max_examples=300, deadline=None)
@given(value=st.integers(0, 2**128 - 1))
def test_every_ipv6_address_is_judged_without_error(value: int) -> None:
    address = str(ipaddress.IPv6Address(value))
    if AddressPolicy().permits(address):
        assert _independently_public(str(_effective(address)))


def networks(text: str) -> tuple[object, ...]:
    """Networks as READQ_ALLOWED_NETWORKS spells them, parsed by the settings."""
    return tuple(Settings(_env_file=None, allowed_networks=text).allowed_networks)  # type: ignore[call-arg]
