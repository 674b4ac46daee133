"""The client address: X-Forwarded-For is believed only from a configured proxy."""

from certsvc.api.client import parse_networks, resolve

PROXY = parse_networks("10.0.0.5, 192.168.0.0/16")


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert resolve("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert resolve("203.0.113.9", "198.51.100.1", PROXY) == "203.0.113.9"


def test_forwarded_for_from_a_trusted_proxy_names_the_client() -> None:
    assert resolve("10.0.0.5", "198.51.100.1", PROXY) == "198.51.100.1"


def test_a_spoofed_leftmost_entry_is_not_believed() -> None:
    # the client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address
    assert resolve("10.0.0.5", "1.2.3.4, 198.51.100.1", PROXY) == "198.51.100.1"


def test_chained_trusted_proxies_are_skipped() -> None:
    assert resolve("10.0.0.5", "198.51.100.1, 192.168.1.1", PROXY) == "198.51.100.1"


def test_garbage_from_a_trusted_proxy_falls_back_to_the_peer() -> None:
    assert resolve("10.0.0.5", "not-an-address", PROXY) == "10.0.0.5"
