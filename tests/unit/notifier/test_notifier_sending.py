"""The connection goes to the checked address while the request keeps the endpoint's host."""

from __future__ import annotations

import ipaddress

from storeplane_notifier.sending import host_header, pinned_url
from storeplane_notifier.targets import parse_url


def test_the_url_is_pinned_to_the_checked_address_and_the_host_header_kept() -> None:
    target = parse_url("https://hooks.example.com:8443/in?x=1", allow_http=False)
    assert str(pinned_url(target, ipaddress.ip_address("93.184.215.14"))) == "https://93.184.215.14:8443/in?x=1"
    assert str(pinned_url(target, ipaddress.ip_address("2001:db8::1"))) == "https://[2001:db8::1]:8443/in?x=1"
    assert host_header(target) == "hooks.example.com:8443"


def test_a_default_port_is_left_out_of_the_host_header() -> None:
    assert host_header(parse_url("https://hooks.example.com/in", allow_http=False)) == "hooks.example.com"
    assert host_header(parse_url("http://[::1]:80/in", allow_http=True)) == "[::1]"
