"""`base_url` is read the way requests/urllib3 connect; what could mislead a check is refused.

Issue 8 item 2: `http://REMOTE:PORT\\@127.0.0.1:1` passed the loopback check (urlsplit saw
127.0.0.1) while requests connected to REMOTE and posted the client secret there.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from coupa_api.settings import base_url_problem, connected_url, is_loopback, normalize_base_url
from tests.tap.conftest import tap_config
from tests.target.conftest import target_config
from tests.wire.conftest import run_plugin

CONFIG_EXIT = 2


def _bad_urls(remote_netloc: str) -> dict[str, tuple[str, str]]:
    return {
        "backslash": (f"http://{remote_netloc}\\@127.0.0.1:1", "backslash"),
        "userinfo": (f"http://user:pw@{remote_netloc}", "user name or password"),
        "query": (f"http://{remote_netloc}?next=1", "?query"),
        "fragment": (f"http://{remote_netloc}#top", "#fragment"),
    }


@pytest.mark.parametrize("executable", ["tap-coupa", "target-coupa"])
@pytest.mark.parametrize("kind", ["backslash", "userinfo", "query", "fragment"])
def test_misleading_base_url_is_refused_before_any_request(remote, tmp_path, executable, kind):
    url, needle = _bad_urls(remote.netloc)[kind]
    config = (tap_config(url) if executable == "tap-coupa" else target_config(url, tmp_path)) | {
        "client_secret": "secret-that-must-stay-home"
    }
    args = ["--discover"] if executable == "tap-coupa" else []
    result = run_plugin(executable, args, config, tmp_path, timeout=60)
    assert result.returncode == CONFIG_EXIT, result.stderr[-2000:]
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert remote.requests == []  # nothing, least of all the secret, reached the other host
    assert "pw@" not in result.stderr  # a URL with userinfo is never echoed


def test_the_issue_example_is_refused_and_the_remote_hears_nothing(remote):
    problem = base_url_problem(f"http://{remote.netloc}\\@127.0.0.1:1")
    assert problem is not None
    assert "backslash" in problem


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.coupahost.com",
        "https://acme.coupahost.com/",
        "https://acme.coupahost.com/api/",
        "https://acme-test.coupahost.com:443",
        "https://partner.coupacloud.com",
        "http://127.0.0.1:8080",
        "http://127.0.0.2:1",
        "http://localhost:1",
        "http://[::1]:8080",
    ],
)
def test_good_instance_urls_are_accepted(url):
    assert base_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:99999", "is not a URL"),
        ("https://acme.coupahost.com:abc", "is not a URL"),
        ("http://acme.coupahost.com", "plain http"),
        ("http://10.0.0.1:8080", "plain http"),
        ("https://acme.coupahost.com/api/invoices", "has a path"),
        ("https://@acme.coupahost.com", "user name or password"),
        ("https://acme.coupahost.com?", "?query"),
        ("https://acme.coupahost.com/#", "#fragment"),
        ("https://acme.coupa host.com", "is not a URL"),
        ("https://acme.coupahost.com\\", "backslash"),
    ],
)
def test_bad_urls_get_their_sentence(url, needle):
    problem = base_url_problem(url)
    assert problem is not None
    assert needle in problem


# -- properties -------------------------------------------------------------------------------
HOSTS = st.sampled_from(
    ["127.0.0.1", "127.0.0.2", "localhost", "[::1]", "acme.coupahost.com", "10.0.0.1",
     "remote.example", "LOCALHOST", "127.1", "0x7f.1", "2130706433", "evil.example."]
)  # fmt: skip
PIECES = st.sampled_from(
    ["", "\\", "@", "user:pw@", ":1", ":8080", "/", "/api", "/api/", "/x", "?", "?a=1", "#", "#f",
     "%2F", "%40", "%5C", " ", "\t", "/@127.0.0.1", "\\@127.0.0.1:1", ".", ":", "//"]
)  # fmt: skip


@st.composite
def candidate_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http://", "https://", "ftp://", "HTTP://", "", "http:/"]))
    parts = [scheme]
    parts += draw(st.lists(PIECES, max_size=2))
    parts.append(draw(HOSTS))
    parts += draw(st.lists(PIECES, max_size=3))
    return "".join(parts)


def _connection_target(url: str) -> tuple[str | None, int | None, str | None]:
    """(host, port, scheme) that requests would open a connection to for `url`."""
    prepared = requests.Request("POST", url).prepare()
    parts = parse_url(str(prepared.url))
    return parts.host, parts.port, parts.scheme


@settings(max_examples=200, deadline=500)
@given(st.one_of(candidate_urls(), st.text(max_size=60)))
def test_an_accepted_base_url_means_what_requests_will_do(raw):
    problem = base_url_problem(raw)  # never raises
    if problem is not None:
        assert problem.startswith("`base_url`")
        return
    base = normalize_base_url(raw)
    parts = connected_url(base)
    assert parts.scheme in {"http", "https"}
    assert parts.auth is None
    assert parts.query is None
    assert parts.fragment is None
    assert parts.path in {None, "", "/"}
    assert "\\" not in raw
    # The token request goes exactly where the check looked, and plain http only to loopback.
    host, port, scheme = _connection_target(f"{base}/oauth2/token")
    assert (host, port, scheme) == (parts.host, parts.port, parts.scheme)
    if scheme == "http":
        assert host is not None
        assert is_loopback(host)


@settings(max_examples=150, deadline=500)
@given(candidate_urls())
def test_userinfo_and_backslashes_are_always_refused(raw):
    authority = raw.split("://", 1)[-1]
    if "\\" in raw or "@" in authority.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        assert base_url_problem(raw) is not None
