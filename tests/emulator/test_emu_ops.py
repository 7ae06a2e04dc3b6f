"""Operations knobs: rate limiting, faults, scripted mutations, latency and the control API."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from coupa_emulator.control import ControlError
from coupa_emulator.quota import Quotas, quota_headers


def _burst(api, n, path="/api/currencies"):
    return [api.get(path) for _ in range(n)]


def test_rate_limit_429_without_retry_after(api, coupa):
    coupa.control.configure(rate_limit=2, burst=3)
    statuses = [r.status_code for r in _burst(api, 8)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses
    limited = next(r for r in _burst(api, 3) if r.status_code == 429)
    assert "Retry-After" not in limited.headers
    time.sleep(0.6)
    assert api.get("/api/currencies").status_code == 200  # the bucket refills


QUOTA_HEADERS = {
    "ietf": ("RateLimit", '"default";r={r};t=60'),
    "ietf-dict": ("RateLimit", "limit=3, remaining={r}, reset=60"),
    "ietf-old": ("RateLimit-Remaining", "{r}"),
    "x-ratelimit": ("X-RateLimit-Remaining", "{r}"),
}


@pytest.mark.parametrize("style", sorted(QUOTA_HEADERS))
def test_quota_answers_429_when_spent_and_reports_it_in_headers(api, coupa, style):
    coupa.control.configure(quota=3, quota_window=60, rate_limit_headers=style)
    answers = _burst(api, 4)
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    name, template = QUOTA_HEADERS[style]
    assert [r.headers[name] for r in answers] == [template.format(r=n) for n in (2, 1, 0, 0)]
    assert "Retry-After" not in answers[-1].headers  # only with the retry_after knob
    if style == "ietf":
        assert answers[0].headers["RateLimit-Policy"] == '"default";q=3;w=60'
    if style == "x-ratelimit":
        assert int(answers[0].headers["X-RateLimit-Reset"]) > time.time()  # an epoch


def test_quota_without_headers_and_knob_errors(api, coupa):
    coupa.control.configure(quota=1, quota_window=60, retry_after=7)
    first, second = _burst(api, 2)
    assert first.status_code == 200
    assert not [h for h in first.headers if "ratelimit" in h.lower()]
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "7"
    for bad in ({"quota": 0}, {"quota": 1.5}, {"quota_window": 0}, {"rate_limit_headers": "x"}):
        with pytest.raises(ControlError):
            coupa.control.configure(**bad)


def test_rate_limit_with_retry_after_and_per_client(api, coupa, oauth_client, mint_token):
    coupa.control.configure(rate_limit=1, burst=1, retry_after=2)
    assert api.get("/api/currencies").status_code == 200
    limited = api.get("/api/currencies")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    cid, secret = oauth_client(["core.common.read"])
    other = mint_token(cid, secret)
    r = requests.get(f"{coupa.base_url}/api/currencies",
                     headers={"Authorization": f"Bearer {other}", "Accept": "application/json"},
                     timeout=30)  # fmt: skip
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "marker"),
    [("html", "text/html", "<html>"), ("json", "application/json", '"errors"'),
     ("xml", "application/xml", "<errors>"), ("text", "text/plain", "503")],
)  # fmt: skip
def test_status_fault_bodies(api, coupa, body, content_type, marker):
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "status": 503, "body": body, "times": 1}]
    )
    failed = api.get("/api/invoices")
    assert failed.status_code == 503
    assert failed.headers["Content-Type"].startswith(content_type)
    assert marker in failed.text
    assert api.get("/api/invoices").status_code == 200  # times=1


def test_status_fault_after_method_and_retry_after(api, coupa):
    rule = {"kind": "status", "path": "/api/invoices", "method": "GET", "after": 2, "times": 2,
            "status": 502, "retry_after": 7}  # fmt: skip
    coupa.control.add_faults([rule])
    statuses = [r.status_code for r in _burst(api, 5, "/api/invoices")]
    assert statuses == [200, 200, 502, 502, 200]
    coupa.control.add_faults([{"kind": "status", "path": "/api/invoices", "status": 500}])
    assert api.get("/api/suppliers").status_code == 200  # other paths unaffected
    failed = api.get("/api/invoices")
    assert failed.status_code == 500


def test_drop_fault_closes_the_connection(api, coupa):
    coupa.control.add_faults([{"kind": "drop", "path": "/api/invoices"}])
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{coupa.base_url}/api/invoices", headers=api.headers(), timeout=10)
    assert api.get("/api/invoices").status_code == 200


def test_truncate_fault_sends_half_a_body_with_200(api, coupa):
    coupa.control.add_faults([{"kind": "truncate", "path": "/api/invoices"}])
    cut = api.get("/api/invoices")
    assert cut.status_code == 200
    with pytest.raises(ValueError):  # noqa: PT011 - requests raises a JSONDecodeError subclass
        cut.json()
    assert api.get("/api/invoices").json()


def test_slow_fault_and_latency(api, coupa):
    coupa.control.add_faults([{"kind": "slow", "path": "/api/currencies", "delay_s": 0.5}])
    started = time.monotonic()
    assert api.get("/api/currencies").status_code == 200
    assert time.monotonic() - started >= 0.5
    coupa.control.configure(latency_ms=200)
    started = time.monotonic()
    api.get("/api/currencies")
    assert time.monotonic() - started >= 0.2


def test_bad_fault_rule_is_refused(coupa):
    with pytest.raises(ControlError, match="fault kind"):
        coupa.control.add_faults([{"kind": "explode"}])


def test_mutation_after_n_requests(api, coupa):
    before = {r["id"]: r["updated-at"] for r in coupa.control.records("invoices")}
    coupa.control.add_mutation(after_requests=2, resource="invoices", update=5, insert=3)
    api.get("/api/currencies")
    api.get("/api/currencies")
    assert {r["id"]: r["updated-at"] for r in coupa.control.records("invoices")} == before
    api.get("/api/currencies")  # the third /api/ request triggers it
    after = {r["id"]: r["updated-at"] for r in coupa.control.records("invoices")}
    new = set(after) - set(before)
    assert len(new) == 3
    assert min(new) > max(before)
    changed = [i for i in before if after[i] != before[i]]
    assert len(changed) == 5
    rows = api.all_rows("invoices", {"updated-at[gt_or_eq]": after[changed[0]]})
    assert set(changed) | new <= {r["id"] for r in rows}


def test_stats_log_and_in_flight(api, coupa):
    coupa.control.configure(latency_ms=150)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: api.get("/api/uoms", {"limit": 2}), range(6)))
    stats = coupa.control.stats()
    assert stats["max_in_flight"] >= 3
    assert stats["requests_by_path"]["/api/uoms"] == 6
    assert stats["status_counts"]["200"] >= 6
    assert stats["token_mints"]["demo"] >= 1
    entry = [e for e in coupa.control.requests_log() if e["path"] == "/api/uoms"][-1]
    assert entry["method"] == "GET"
    assert entry["query"] == "limit=2"
    assert entry["status"] == 200
    assert entry["client_id"] == "demo"
    assert entry["accept"] == "application/json"
    assert entry["bytes"] > 0


def test_reset_restores_start_knobs_and_clears_state(api, coupa):
    coupa.control.configure(latency_ms=300, stable_order=True)
    coupa.control.add_faults([{"kind": "status", "status": 500}])
    coupa.control.reset(counts={"invoices": 3})
    started = time.monotonic()
    rows = api.rows("/api/invoices")
    assert time.monotonic() - started < 0.3
    assert len(rows) == 3
    assert coupa.control.stats()["requests"] <= 3
    with pytest.raises(ControlError, match="configure"):
        coupa.control.configure(seed=3)
    with pytest.raises(ControlError):
        coupa.control.reset(tenant_profile="nope")


def test_inserted_ids_start_above_ids_above(api, coupa):
    """A fresh emulator would hand out the same new ids again; `ids_above` moves them on."""

    def new_invoices() -> dict[int, set[int]]:
        api.get("/api/currencies")  # fires the mutation
        records = coupa.control.records("invoices")
        return {r["id"]: {x["id"] for x in r["invoice-lines"]} for r in records if r["id"] > top}

    top = max(coupa.control.record_ids("invoices"))
    coupa.control.add_mutation(after_requests=0, resource="invoices", insert=3)
    first = new_invoices()
    coupa.control.reset()  # the next demo run: a fresh emulator with the same seed
    coupa.control.add_mutation(0, "invoices", insert=3, ids_above=max(first))
    second = new_invoices()
    assert len(first) == len(second) == 3
    assert min(second) > max(first)
    first_lines = set().union(*first.values())
    second_lines = set().union(*second.values())
    assert second_lines, "new invoices come with lines"
    assert not first_lines & second_lines, "their lines are new rows too"
    with pytest.raises(ControlError, match="ids_above"):
        coupa.control.add_mutation(0, "invoices", insert=1, ids_above=-1)


def test_clear_faults_and_issued_tokens(api, coupa):
    """A chaos run's stages start clean (faults only), and can look for leaked tokens."""
    coupa.control.add_faults([{"kind": "status", "path": "/api/currencies", "times": 100}])
    assert api.get("/api/currencies").status_code == 503
    assert coupa.control.clear_faults()["dropped"] == 1
    assert api.get("/api/currencies").status_code == 200
    assert api.token in coupa.control.issued_tokens()
    coupa.control.reset()
    assert coupa.control.issued_tokens() == []


@pytest.mark.parametrize("now", [1.0, 65_500.0, 65_535.9, 2.0**20 - 30])
def test_a_fresh_quota_window_resets_in_exactly_its_length(now):
    # Found by CI at ~18 h uptime: `start + window - now` rounds 60 up to 60.000000000007 once
    # the monotonic clock nears a power of two, and the headers said reset=61.
    answer = Quotas().take("client", 3, 60, now=now)
    assert answer.reset_seconds == 60
    assert quota_headers("ietf", answer)["RateLimit"] == '"default";r=2;t=60'
