"""Whose address a request counts against: proxy headers are believed only from a trusted proxy,
and then only the part our own proxies wrote (read from the right)."""
import falcon
import falcon.testing

from gateway.limits import client_address, trusted_proxies

PROXIES = trusted_proxies("10.0.0.0/8, 192.0.2.1")


def _request(peer, **headers):
    return falcon.Request(falcon.testing.create_environ(remote_addr=peer, headers=headers))


def test_with_no_trusted_proxy_the_peer_is_the_client_whatever_the_headers_say():
    request = _request("203.0.113.5", **{"X-Forwarded-For": "198.51.100.1"})
    assert client_address(request, trusted_proxies("")) == "203.0.113.5"
    assert client_address(request, PROXIES) == "203.0.113.5", "an untrusted peer's headers are its own words"


def test_behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client():
    spoofed = _request("10.1.2.3", **{"X-Forwarded-For": "1.1.1.1, 198.51.100.7, 10.9.9.9"})
    assert client_address(spoofed, PROXIES) == "198.51.100.7"


def test_forwarded_wins_over_x_forwarded_for_and_ports_and_brackets_go():
    request = _request("192.0.2.1", Forwarded='for=198.51.100.1, for="[2001:db8::7]:4711";proto=https',
                       **{"X-Forwarded-For": "203.0.113.9"})
    assert client_address(request, PROXIES) == "2001:db8::7"
    assert client_address(_request("192.0.2.1", Forwarded="for=198.51.100.2:80"), PROXIES) == "198.51.100.2"


def test_a_trusted_proxy_with_no_header_or_only_trusted_hops_is_the_client_itself():
    assert client_address(_request("10.0.0.1"), PROXIES) == "10.0.0.1"
    assert client_address(_request("10.0.0.1", **{"X-Forwarded-For": "10.0.0.2"}), PROXIES) == "10.0.0.1"


def test_an_unreadable_hop_is_never_taken_for_a_proxy():
    request = _request("10.0.0.1", Forwarded="for=unknown")
    assert client_address(request, PROXIES) == "unknown"
