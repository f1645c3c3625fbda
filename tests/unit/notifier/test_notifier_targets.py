"""The SSRF guard's pure rules, on address objects only (nothing here connects anywhere)."""

from __future__ import annotations

import ipaddress

import pytest

from storeplane_notifier.targets import AllowList, TargetRefused, checked_addresses, parse_url, refusal_of


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6 is judged as the IPv4 address
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
    ],
)
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    reason = refusal_of(ipaddress.ip_address(address))
    assert reason is not None and why in reason


def test_public_addresses_are_not_refused_by_the_rules() -> None:
    # Judged as values only; no test ever sends anything to a public address.
    assert refusal_of(ipaddress.ip_address("8.8.8.8")) is None
    assert refusal_of(ipaddress.ip_address("2001:4860:4860::8888")) is None


def test_the_allow_list_takes_cidrs_and_exact_names() -> None:
    allow = AllowList.parse(["127.0.0.1/32", "receiver.local"])
    loopback = parse_url("http://127.0.0.1:9000/x", allow_http=True)
    assert checked_addresses(loopback, [ipaddress.ip_address("127.0.0.1")], allow)
    outside = parse_url("http://127.0.0.2:9000/x", allow_http=True)
    with pytest.raises(TargetRefused, match=r"127\.0\.0\.2 is a loopback address"):
        checked_addresses(outside, [ipaddress.ip_address("127.0.0.2")], allow)
    named = parse_url("http://Receiver.Local:9000/x", allow_http=True)
    assert checked_addresses(named, [ipaddress.ip_address("10.0.0.5")], allow)


def test_a_name_is_refused_when_any_address_it_resolves_to_is() -> None:
    target = parse_url("https://hooks.example.com/x", allow_http=False)
    addresses = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(TargetRefused, match=r"hooks.example.com \(127.0.0.1\) is a loopback address"):
        checked_addresses(target, addresses, AllowList())


def test_metadata_names_are_refused_by_name() -> None:
    target = parse_url("http://metadata.google.internal/computeMetadata/v1/", allow_http=True)
    with pytest.raises(TargetRefused, match="metadata"):
        checked_addresses(target, [ipaddress.ip_address("8.8.8.8")], AllowList())


@pytest.mark.parametrize(
    ("url", "allow_http", "words"),
    [
        ("http://hooks.example.com/x", False, "must start with https://"),
        ("ftp://hooks.example.com/x", True, "https:// or http://"),
        ("https://user:pw@hooks.example.com/x", False, "credentials"),
        ("https:///x", False, "no host"),
        ("https://hooks.example.com:70000/x", False, "not a valid URL"),
        ("https://hooks.example.com/" + "x" * 3000, False, "longer than"),
    ],
)
def test_unacceptable_urls_say_what_to_fix(url: str, allow_http: bool, words: str) -> None:
    with pytest.raises(TargetRefused, match=words) as refused:
        parse_url(url, allow_http=allow_http)
    assert refused.value.code == "invalid_url"


def test_a_url_keeps_its_host_and_default_port() -> None:
    target = parse_url("https://Hooks.Example.com./in", allow_http=False)
    assert (target.host, target.port) == ("hooks.example.com", 443)
    assert parse_url("http://[::1]:9000/", allow_http=True).host == "::1"
