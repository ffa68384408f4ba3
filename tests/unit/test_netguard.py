from __future__ import annotations

import pytest

from workers.errors import BlockedAddress
from workers.netguard import is_public_address, resolve_public_address


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "100.100.100.200", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.0.192",
    "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1",
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
        resolve_public_address(host, 80)


def test_a_public_literal_resolves_to_itself() -> None:
    assert resolve_public_address("8.8.8.8", 443) == "8.8.8.8"
