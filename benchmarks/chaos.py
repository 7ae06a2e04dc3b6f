"""Seeded chaos: random fault schedules over every request kind, invariants checked after each run.

Not a unit test: a soak (`tests/test_chaos.py` runs a few schedules of the same engine). Each
schedule, drawn from one seed, resets an emulator to small random data and then:

1. reads it with tap-coupa (no faults: the baseline and the sweeps' first id sets);
2. changes Coupa between runs: deletes records of the swept streams, updates and inserts;
3. writes a few invoices with target-coupa under random write faults (POST/PUT/look-ups);
4. reads it again with tap-coupa from the baseline STATE, under random faults on the token
   endpoint, record pages, deletion-sweep pages and sub-resources (429 with and without
   Retry-After, 5xx with HTML/XML/text/JSON/echo bodies, 200 with a JSON object, no body,
   HTML or XML, truncated bodies, dropped connections, slow answers past `request_timeout`,
   401/403/404, redirects of the token form), with latency, the emulator's rate limit, short
   token lifetimes and parents deleted between their page and their sub-resource's read;
5. when a run failed, clears the faults and runs again from the last STATE it emitted.

Every run is the real console script in a subprocess. After each one the invariants hold:
(a) a tap run that exits 0 leaves the warehouse (its RECORDs upserted by id, `_sdc_deleted_at`
hard-deleting) holding exactly Coupa's records (ids and `updated-at`); one that does not exit 0
ends with an ERROR sentence and `finished: ... (exit N)`, and the rerun restores the exact set;
a target run writes each invoice exactly once, or dead-letters it (exit 3), or fails cleanly
without a duplicate; (b) no `_sdc_deleted_at` for an id Coupa still has; (c) no client secret
and no token the emulator issued in stdout, stderr, STATE or the dead-letter file; (d) no
Python traceback anywhere.

    .venv/bin/python benchmarks/chaos.py --schedules 500 --seed 1 --jobs 2
    .venv/bin/python benchmarks/chaos.py --only 1234 --verbose   # replay one schedule
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import multiprocessing
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from coupa_emulator.config import EmulatorConfig  # noqa: E402
from coupa_emulator.control import EmulatorControl  # noqa: E402
from coupa_emulator.resources import SCOPE_CATALOGUE  # noqa: E402
from coupa_emulator.server import RunningEmulator, start_in_thread  # noqa: E402

BIN = Path(sys.executable).parent
AUDITS = {
    "name": "audits",
    "path": "/api/custom_objects/9/object_instances",
    "scope": "core.common.read",
}
#: Streams read in every schedule, and the emulator table each one is the truth of.
TABLES = {
    "expense_reports": "expense_reports",  # incremental, swept
    "suppliers": "suppliers",  # incremental, swept, parent of remit_to_addresses
    "invoices": "invoices",  # incremental, written to by the target
    "audits": "custom_object_instances",  # full-table extra stream, swept
}
SUB = "remit_to_addresses"  # /api/suppliers/{id}/addresses
SWEPT = ["expense_reports", "suppliers", "audits"]
PATHS = {
    "expense_reports": "/api/expense_reports",
    "suppliers": "/api/suppliers",
    "invoices": "/api/invoices",
    "audits": AUDITS["path"],
}
SWEEP_QUERY = ['fields=["id"]', "dir=asc"]
FINISHED = re.compile(r"(tap|target)-coupa finished: (.+) \(exit (\d+)\)\s*$")
ELSEWHERE = "http://127.0.0.2:9/elsewhere"
#: The emulator's behaviour knobs as a fresh schedule starts (EmulatorConfig defaults).
DEFAULT_KNOBS: dict[str, Any] = {
    "latency_ms": 0,
    "rate_limit": None,
    "burst": 20,
    "retry_after": None,
    "expires_in": 86399,
    "vanishing_parents": {},
}
#: Schedules per chain in the soak: one baseline (and one emulator reset) per chain.
CHAIN = 10
TIMEOUT = 240  # seconds for one connector run (a bound, not an expectation)
HARNESS = "harness error"  # a bug of this script, not of the connectors: reported apart


# -- schedules ----------------------------------------------------------------------------------
def _fault(rng: random.Random, *, write: bool = False, token: bool = False) -> dict[str, Any]:
    """One fault rule's behaviour (where it hits is added by the caller)."""
    roll = rng.random()
    times = rng.choice([1, 1, 2, 3, 30]) if roll < 0.97 else 1
    if roll < 0.16:
        rule = {
            "kind": "status",
            "status": 429,
            "body": rng.choice(["json", "html", "empty"]),
            "retry_after": rng.choice([None, 0, 1]),
        }
    elif roll < 0.36:
        rule = {
            "kind": "status",
            "status": rng.choice([500, 502, 503, 504]),
            "body": rng.choice(["html", "xml", "text", "json", "echo", "empty"]),
        }
    elif roll < 0.52 and not write:
        rule = {
            "kind": "status",
            "status": 200,
            "body": rng.choice(["json", "empty", "html", "xml"]),
        }
    elif roll < 0.60:
        rule = {"kind": "truncate"}
    elif roll < 0.68:
        rule = {"kind": "drop"}
    elif roll < 0.76:
        rule = {"kind": "slow", "delay_s": rng.choice([0.2, 0.6, 2.5])}  # 2.5 > request_timeout
    elif roll < 0.82:
        rule = {"kind": "status", "status": rng.choice([401, 403, 404]), "body": "json"}
    elif roll < 0.88:
        rule = {"kind": "status", "status": rng.choice([400, 502]), "body": "echo"}
    elif roll < 0.93 and (write or token):
        rule = {
            "kind": "status",
            "status": rng.choice([302, 307, 308]),
            "body": "html",
            "location": ELSEWHERE,
        }
    elif roll < 0.97 and write:
        rule = {"kind": "status", "status": 422, "body": "json"}
    else:
        rule = {"kind": "status", "status": 503, "body": "html"}
    rule["times"] = times
    rule["after"] = rng.choice([0, 0, 1, 2, 3, 5, 8])
    return rule


def _tap_faults(rng: random.Random) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(["token", "pages", "pages", "sweep", "sweep", "sub"])
        if kind == "token":
            where: dict[str, Any] = {"path": "/oauth2/token"}
        elif kind == "pages":
            where = {"path": PATHS[rng.choice(list(PATHS))], "method": "GET"}
        elif kind == "sweep":
            where = {"path": PATHS[rng.choice(SWEPT)], "method": "GET", "query": SWEEP_QUERY}
        else:
            # Any supplier's addresses (and the check that a parent still exists): `after` picks
            # which of those requests fail.
            where = {"path": "/api/suppliers/", "method": "GET"}
        rules.append({**_fault(rng, token=kind == "token"), **where})
    return rules


def _write_faults(rng: random.Random) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(["post", "post", "lookup", "token"])
        if kind == "post":
            where: dict[str, Any] = {"path": "/api/invoices", "method": "POST"}
        elif kind == "lookup":
            where = {"path": "/api/invoices", "method": "GET"}
        else:
            where = {"path": "/oauth2/token"}
        rules.append({**_fault(rng, write=kind != "token", token=kind == "token"), **where})
    return rules


@dataclass
class Schedule:
    """Everything one seed decides; `as_json()` replays it."""

    seed: int
    counts: dict[str, int]
    data_seed: int
    tap: dict[str, Any]
    knobs: dict[str, Any]
    deletions: dict[str, int]
    mutation: dict[str, Any]
    invoices: int
    write_faults: list[dict[str, Any]]
    tap_faults: list[dict[str, Any]] = field(default_factory=list)
    vanish: int = 0

    def as_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def make_schedule(seed: int) -> Schedule:
    """The schedule for `seed` (the same seed always gives the same schedule)."""
    rng = random.Random(seed)
    counts = {
        "expense_reports": rng.randint(20, 120),
        "suppliers": rng.randint(4, 10),
        SUB: rng.randint(12, 24),
        "invoices": rng.randint(3, 12),
        "custom_object_instances": rng.randint(20, 120),
    }
    knobs: dict[str, Any] = {
        "latency_ms": rng.choice([0, 0, 0, 5, 20]),
        "expires_in": rng.choice([3600, 3600, 3600, 2]),
    }
    if rng.random() < 0.2:
        knobs.update(
            rate_limit=rng.choice([20, 40]),
            burst=rng.choice([2, 5]),
            retry_after=rng.choice([None, 1]),
        )
    tap = {
        "max_retries": rng.randint(3, 4),
        "max_retry_seconds": 8,
        "request_timeout": 2,
        "max_concurrency": rng.randint(1, 4),
        "max_requests_per_second": rng.choice([0, 0, 30]),
    }
    mutation = {
        "resource": rng.choice([*TABLES.values()]),
        "update": rng.randint(0, 4),
        "insert": rng.randint(0, 4),
    }
    return Schedule(
        seed=seed,
        counts=counts,
        data_seed=rng.randint(1, 10**6),
        tap=tap,
        knobs=knobs,
        deletions={s: rng.choice([0, 1, 2, 5]) for s in SWEPT},
        mutation=mutation,
        invoices=rng.randint(1, 4),
        write_faults=_write_faults(rng),
        tap_faults=_tap_faults(rng),
        vanish=1 if rng.random() < 0.15 else 0,
    )


# -- runs and invariants ------------------------------------------------------------------------
@dataclass
class Run:
    """One console-script run: exit code and everything it wrote."""

    label: str
    returncode: int
    stdout: str
    stderr: str
    extra: str = ""  # the dead-letter file, for the target

    def messages(self) -> list[dict[str, Any]]:
        found = []
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def last_state(self) -> dict[str, Any] | None:
        states = [m["value"] for m in self.messages() if m.get("type") == "STATE"]
        return states[-1] if states else None


@dataclass
class Result:
    """What one schedule did; `violations` must stay empty."""

    seed: int
    tap_outcome: str = ""
    target_outcome: str = ""
    runs: int = 0
    markers: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


class Chaos:
    """Runs schedules against one emulator (one per worker process)."""

    def __init__(self, emulator: RunningEmulator, workdir: Path, verbose: bool = False) -> None:
        self.emu = emulator
        self.control: EmulatorControl = emulator.control
        self.workdir = workdir
        self.verbose = verbose
        self.catalog: dict[str, Any] | None = None
        #: What the next schedule of a chain continues from: secret, warehouse, last STATE.
        self.carry: tuple[str, Warehouse, dict[str, Any]] | None = None

    # connectors ---------------------------------------------------------------------------
    def _config(self, schedule: Schedule, secret: str, **extra: Any) -> dict[str, Any]:
        return {
            "base_url": self.emu.base_url,
            "client_id": "chaos",
            "client_secret": secret,
            "token_settle_seconds": 0,
            **schedule.tap,
            **extra,
        }

    def _tap(self, label: str, config: dict[str, Any], state: dict[str, Any] | None) -> Run:
        here = self.workdir / label
        here.mkdir(parents=True, exist_ok=True)
        (here / "config.json").write_text(json.dumps(config))
        (here / "catalog.json").write_text(json.dumps(self._catalog(config)))
        args = [str(BIN / "tap-coupa"), "--config", "config.json", "--catalog", "catalog.json"]
        if state is not None:
            (here / "state.json").write_text(json.dumps(state))
            args += ["--state", "state.json"]
        done = subprocess.run(
            args, cwd=here, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        (here / "stdout").write_text(done.stdout)
        (here / "stderr").write_text(done.stderr)
        return Run(label, done.returncode, done.stdout, done.stderr)

    def _target(self, label: str, config: dict[str, Any], records: list[dict[str, Any]]) -> Run:
        here = self.workdir / label
        here.mkdir(parents=True, exist_ok=True)
        dead = here / "dead-letter.jsonl"
        config = {**config, "dead_letter_path": str(dead)}
        (here / "config.json").write_text(json.dumps(config))
        lines = [
            {
                "type": "SCHEMA",
                "stream": "invoices",
                "schema": _invoice_schema(),
                "key_properties": ["id"],
            }
        ]
        lines += [{"type": "RECORD", "stream": "invoices", "record": r} for r in records]
        lines.append({"type": "STATE", "value": {"bookmarks": {"invoices": {"n": len(records)}}}})
        (here / "input.singer").write_text("".join(json.dumps(m) + "\n" for m in lines))
        args = [str(BIN / "target-coupa"), "--config", "config.json", "--input", "input.singer"]
        done = subprocess.run(
            args, cwd=here, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        extra = dead.read_text() if dead.exists() else ""
        (here / "stdout").write_text(done.stdout)
        (here / "stderr").write_text(done.stderr)
        return Run(label, done.returncode, done.stdout, done.stderr, extra)

    def _catalog(self, config: dict[str, Any]) -> dict[str, Any]:
        """The selected catalog, discovered once per worker (discovery is not under chaos)."""
        if self.catalog is None:
            here = self.workdir / "discover"
            here.mkdir(parents=True, exist_ok=True)
            clean = {**config, "max_retries": 8, "max_retry_seconds": 60}
            (here / "config.json").write_text(json.dumps(clean))
            done = subprocess.run(
                [str(BIN / "tap-coupa"), "--config", "config.json", "--discover"],
                cwd=here,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=True,
            )
            self.catalog = _select(json.loads(done.stdout), [*TABLES, SUB])
        return self.catalog

    # the schedule -------------------------------------------------------------------------
    def run(self, schedule: Schedule, *, fresh: bool = True) -> Result:
        """One schedule; `fresh=False` continues the previous one's data, warehouse and STATE.

        A chain of schedules shares one baseline (and soaks one warehouse through many faulty
        runs); a fresh schedule resets the emulator to its own data and reads it once first.
        """
        started = time.monotonic()
        result = Result(schedule.seed)
        rng = random.Random(schedule.seed * 7919 + 1)
        carry, self.carry = self.carry, None
        state: dict[str, Any] | None
        if carry is not None and not fresh:
            secret, warehouse, state = carry
            self.control.clear_faults()
            self.control.configure(**DEFAULT_KNOBS)
        else:
            secret = f"chaos-secret-{rng.getrandbits(64):016x}"
            self.control.reset(seed=schedule.data_seed, counts=schedule.counts, settle_seconds=0)
            self.control.add_client("chaos", secret, sorted(SCOPE_CATALOGUE))
            warehouse = Warehouse()
        markers_before = warehouse.markers
        statuses_before = Counter(self.control.stats()["status_counts"])
        config = self._config(schedule, secret, detect_deletes=SWEPT, extra_streams=[AUDITS])

        def check(run: Run) -> None:
            result.runs += 1
            self._check_output(run, secret, result)
            if self.verbose:
                print(f"  {run.label}: exit {run.returncode}", file=sys.stderr)

        if carry is None or fresh:
            # 1. Baseline, no faults.
            base = self._tap("baseline", config, None)
            check(base)
            warehouse.apply(base.messages())
            if base.returncode != 0:
                result.violations.append(f"baseline run without faults exited {base.returncode}")
                return self._done(result, started)
            self._check_exact(warehouse, "baseline", result)
            state = base.last_state()

        # 2. target-coupa writes under write faults (before deletions: its supplier lives).
        self._target_stage(schedule, config, result, check)

        # 3. Changes between runs.
        for stream, n in schedule.deletions.items():
            ids = self._truth_ids(stream)
            if stream == "suppliers":
                ids = ids[1:]  # keep one supplier so its sub-resource stays checkable
            for rid in rng.sample(ids, min(n, max(0, len(ids) - 1))):
                self.control.delete_record(TABLES[stream], rid)

        # 4. The chaos run: faults over token, pages, sweep pages, sub-resources.
        self.control.clear_faults()
        suppliers = self._truth_ids("suppliers")
        if schedule.vanish and len(suppliers) > 2:
            self.control.configure(vanishing_parents={"suppliers": [rng.choice(suppliers[1:])]})
        if schedule.mutation["update"] or schedule.mutation["insert"]:
            self.control.add_mutation(after_requests=0, **schedule.mutation)
        self.control.configure(**schedule.knobs)
        self.control.add_faults(schedule.tap_faults)
        chaos = self._tap("chaos", config, state)
        check(chaos)
        warehouse.apply(chaos.messages())
        self._check_markers(chaos, result)
        final = chaos.last_state()
        if chaos.returncode == 0:
            result.tap_outcome = "exact"
            self._check_exact(warehouse, "chaos", result)
        else:
            result.tap_outcome = f"failed-clean-{chaos.returncode}"
            # 5. Faults cleared, rerun from the last STATE the failed run emitted.
            self.control.clear_faults()
            self.control.configure(**DEFAULT_KNOBS)
            again = self._tap("recovery", config, final or state)
            final = again.last_state() if again.returncode == 0 else None
            check(again)
            warehouse.apply(again.messages())
            self._check_markers(again, result)
            if again.returncode != 0:
                result.violations.append(f"recovery run without faults exited {again.returncode}")
            else:
                self._check_exact(warehouse, "recovery", result)
        result.markers = warehouse.markers - markers_before
        result.statuses = Counter(self.control.stats()["status_counts"]) - statuses_before
        if not result.violations and final is not None:
            self.carry = (secret, warehouse, final)
        if self.verbose:
            print(f"  schedule: {schedule.as_json()}", file=sys.stderr)
        return self._done(result, started)

    def _target_stage(
        self,
        schedule: Schedule,
        config: dict[str, Any],
        result: Result,
        check: Any,
    ) -> None:
        # The template is an invoice of a live supplier: earlier schedules of a chain delete some
        # (and may have deleted every supplier that has invoices: then it is re-pointed).
        suppliers = {s["id"]: s for s in self.control.records("suppliers")}
        invoices = self.control.records("invoices")
        template = next(
            (i for i in invoices if (i.get("supplier") or {}).get("id") in suppliers), None
        )
        if template is None:
            template = copy.deepcopy(invoices[0])
            live = suppliers[min(suppliers)]
            template["supplier"] = {k: live.get(k) for k in ("id", "name", "number")}
        numbers = [f"CH-{schedule.seed}-{n}" for n in range(schedule.invoices)]
        records = [_new_invoice(template, number) for number in numbers]
        self.control.add_faults(schedule.write_faults)
        target_config = {
            k: v
            for k, v in config.items()
            if k not in ("detect_deletes", "extra_streams", "max_concurrency")
        }
        run = self._target("target", target_config, records)
        check(run)
        self.control.clear_faults()
        dead = {
            (json.loads(line).get("record") or {}).get("invoice-number")
            for line in run.extra.splitlines()
            if line.strip()
        }
        stored = Counter(i.get("invoice-number") for i in self.control.records("invoices"))
        for number in numbers:
            if stored[number] > 1:
                result.violations.append(f"target: invoice {number} created {stored[number]} times")
        if run.returncode == 0:
            result.target_outcome = "written"
            missing = [n for n in numbers if stored[n] != 1]
            if missing:
                result.violations.append(f"target exit 0 but not in Coupa: {missing}")
        elif run.returncode == 3:
            result.target_outcome = "rejected-dead-lettered"
            wrong = [n for n in numbers if (stored[n] == 1) == (n in dead)]
            if wrong:
                result.violations.append(
                    f"target exit 3: neither or both written and dead-lettered: {wrong}"
                )
        else:
            result.target_outcome = f"failed-clean-{run.returncode}"
            again = self._target("target-again", target_config, records)
            check(again)
            stored = Counter(i.get("invoice-number") for i in self.control.records("invoices"))
            if again.returncode != 0 or any(stored[n] != 1 for n in numbers):
                result.violations.append(
                    f"target rerun without faults: exit {again.returncode}, "
                    f"counts {[stored[n] for n in numbers]}"
                )

    # invariants ---------------------------------------------------------------------------
    def _check_output(self, run: Run, secret: str, result: Result) -> None:
        """(c) no secret or issued token, (d) no traceback, and a clean final line."""
        texts = {"stdout": run.stdout, "stderr": run.stderr, "dead-letter": run.extra}
        tokens = self.control.issued_tokens()
        for where, text in texts.items():
            if secret in text:
                result.violations.append(f"{run.label}: the client secret is in {where}")
            leaked = [t for t in tokens if t in text or t[-40:] in text]
            if leaked:
                result.violations.append(f"{run.label}: {len(leaked)} issued token(s) in {where}")
            if "Traceback (most recent call last)" in text:
                result.violations.append(f"{run.label}: a Python traceback in {where}")
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        final = FINISHED.search(lines[-1]) if lines else None
        if final is None or int(final.group(3)) != run.returncode:
            tail = lines[-1] if lines else "(no output)"
            result.violations.append(f"{run.label}: exit {run.returncode}, last line {tail!r}")
        elif run.returncode not in (0, 3) and not any(" ERROR " in line for line in lines[-6:-1]):
            result.violations.append(f"{run.label}: failed without an ERROR sentence")

    def _check_markers(self, run: Run, result: Result) -> None:
        """(b) never `_sdc_deleted_at` for an id Coupa still has."""
        live = {stream: set(self._truth_ids(stream)) for stream in SWEPT}
        for message in run.messages():
            if message.get("type") != "RECORD":
                continue
            record, stream = message["record"], message["stream"]
            if record.get("_sdc_deleted_at") and record["id"] in live.get(stream, ()):
                result.violations.append(
                    f"{run.label}: false deletion marker for live {stream} {record['id']}"
                )

    def _check_exact(self, warehouse: Warehouse, label: str, result: Result) -> None:
        """(a) the warehouse holds exactly Coupa's records: ids and updated-at."""
        for stream in TABLES:
            truth = self._truth(stream)
            held = warehouse.tables.get(stream, {})
            if held != truth:
                lost = sorted(set(truth) - set(held))[:5]
                extra = sorted(set(held) - set(truth))[:5]
                stale = sorted(i for i in set(truth) & set(held) if truth[i] != held[i])[:5]
                result.violations.append(
                    f"{label}: {stream} differs from Coupa: missing {lost}, not in Coupa "
                    f"{extra}, stale updated-at {stale}"
                )
        addresses = self.control.records(SUB)
        live = set(self._truth_ids("suppliers"))
        held = warehouse.tables.get(SUB, {})
        want = {
            a["id"]: _instant(a.get("updated-at")) for a in addresses if a["supplier-id"] in live
        }
        missing = sorted(i for i in want if held.get(i) != want[i])[:5]
        invented = sorted(set(held) - {a["id"] for a in addresses})[:5]
        if missing or invented:
            result.violations.append(
                f"{label}: {SUB}: missing or stale {missing}, not in Coupa {invented}"
            )

    def _truth(self, stream: str) -> dict[int, Any]:
        rows = self.control.records(TABLES[stream])
        if stream == "audits":
            rows = [r for r in rows if r.get("object-definition-id") == 9]
        return {r["id"]: _instant(r.get("updated-at")) for r in rows}

    def _truth_ids(self, stream: str) -> list[int]:
        if stream == "audits":  # one object definition of the table: needs the records
            return sorted(self._truth(stream))
        return self.control.record_ids(TABLES[stream])

    def _done(self, result: Result, started: float) -> Result:
        result.seconds = time.monotonic() - started
        return result


class Warehouse:
    """A loader with `hard_delete`: RECORDs upserted by id, `_sdc_deleted_at` removes the row."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[int, Any]] = {}
        self.markers = 0

    def apply(self, messages: Iterable[dict[str, Any]]) -> None:
        for message in messages:
            if message.get("type") != "RECORD":
                continue
            table = self.tables.setdefault(message["stream"], {})
            record = message["record"]
            if record.get("_sdc_deleted_at"):
                self.markers += 1
                table.pop(record["id"], None)
            else:
                table[record["id"]] = _instant(record.get("updated-at"))


def _instant(value: Any) -> Any:
    """`updated-at` as an instant: Coupa sends local offsets, the tap normalises to UTC."""
    if not isinstance(value, str):
        return value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _select(catalog: dict[str, Any], streams: Iterable[str]) -> dict[str, Any]:
    wanted = set(streams)
    catalog = copy.deepcopy(catalog)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def _invoice_schema() -> dict[str, Any]:
    from tap_coupa.schemas.procurement import INVOICE  # noqa: PLC0415 - heavy, once

    return INVOICE


def _new_invoice(template: dict[str, Any], number: str) -> dict[str, Any]:
    """An invoice Coupa does not have yet: an existing one, renumbered (as the target tests do)."""
    record = copy.deepcopy(template)
    record["invoice-number"] = number
    return record


# -- the soak -----------------------------------------------------------------------------------
_WORKER: Chaos | None = None


def _start_worker(verbose: bool) -> None:
    global _WORKER  # noqa: PLW0603 - one emulator per worker process
    emulator = start_in_thread(EmulatorConfig(seed=7, scale=60, settle_seconds=0))
    workdir = Path(tempfile.mkdtemp(prefix="coupa-chaos-"))
    _WORKER = Chaos(emulator, workdir, verbose)


def _run_chain(seeds: list[int]) -> list[Result]:
    """Schedules that share one baseline: the first resets the emulator, the rest continue."""
    assert _WORKER is not None
    results: list[Result] = []
    for i, seed in enumerate(seeds):
        try:
            results.append(_WORKER.run(make_schedule(seed), fresh=i == 0))
        except Exception as exc:  # a harness error is reported, not hidden
            _WORKER.carry = None
            results.append(Result(seed, violations=[f"{HARNESS}: {type(exc).__name__}: {exc}"]))
    return results


def chains(seeds: list[int], size: int = CHAIN) -> list[list[int]]:
    """`seeds` cut into chains that start at multiples of `size` (so `--only` can replay one)."""
    found: dict[int, list[int]] = {}
    for seed in seeds:
        found.setdefault(seed - seed % size, []).append(seed)
    return list(found.values())


def summarize(results: list[Result], elapsed: float, clock: str = "wall time") -> str:
    tap = Counter(r.tap_outcome for r in results)
    target = Counter(r.target_outcome for r in results)
    violations = [v for r in results for v in r.violations if not v.startswith(HARNESS)]
    harness = [r for r in results if any(v.startswith(HARNESS) for v in r.violations)]
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
    rows = [
        ("schedules", len(results) - len(harness)),
        ("harness errors (schedule not run)", len(harness)),
        ("connector runs (subprocesses)", sum(r.runs for r in results)),
        ("tap chaos runs: exit 0 with the exact record set", tap.get("exact", 0)),
        (
            "tap chaos runs: failed cleanly, rerun exact",
            sum(n for k, n in tap.items() if k.startswith("failed")),
        ),
        ("target runs: every invoice written once", target.get("written", 0)),
        (
            "target runs: rejected ones dead-lettered (exit 3)",
            target.get("rejected-dead-lettered", 0),
        ),
        (
            "target runs: failed cleanly, rerun wrote each once",
            sum(n for k, n in target.items() if k.startswith("failed")),
        ),
        ("deletion markers emitted (all true)", sum(r.markers for r in results)),
        ("violations of an invariant", len(violations)),
    ]
    width = max(len(name) for name, _ in rows)
    out = [f"{name:<{width}}  {value:>7}" for name, value in rows]
    out.append(f"{'tap chaos-run outcomes':<{width}}  {dict(sorted(tap.items()))}")
    out.append(f"{'answers by status, all runs':<{width}}  {dict(sorted(statuses.items()))}")
    out.append(f"{clock:<{width}}  {elapsed:,.0f} s")
    for r in results:
        for v in r.violations:
            kind = "HARNESS ERROR" if v.startswith(HARNESS) else "VIOLATION"
            out.append(f"{kind} seed {r.seed}: {v}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1, help="first schedule's seed")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--only", type=int, help="run the one schedule of this seed")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--out", type=Path, help="append one JSON line per schedule here")
    parser.add_argument("--report", type=Path, help="only print the table of an --out file")
    args = parser.parse_args()
    if args.report is not None:  # e.g. of a soak still running, or stopped partway
        done = [_result(json.loads(line)) for line in args.report.read_text().splitlines()]
        elapsed = sum(r.seconds for r in done)
        print(summarize(sorted(done, key=lambda r: r.seed), elapsed, "schedule time, summed"))
        return 1 if any(r.violations for r in done) else 0
    if args.only is not None:  # replay its chain from the chain's first schedule
        seeds = list(range(args.only - args.only % CHAIN, args.only + 1))
    else:
        seeds = list(range(args.seed, args.seed + args.schedules))
    started = time.monotonic()
    results: list[Result] = []
    if args.jobs <= 1 or len(seeds) <= CHAIN:
        _start_worker(args.verbose)
        for chain in chains(seeds):
            for result in _run_chain(chain):
                results.append(result)
                _progress(results, len(seeds), args.out)
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.jobs, _start_worker, (args.verbose,)) as pool:
            for batch in pool.imap_unordered(_run_chain, chains(seeds)):
                for result in batch:
                    results.append(result)
                    _progress(results, len(seeds), args.out)
    results.sort(key=lambda r: r.seed)
    print(summarize(results, time.monotonic() - started))
    return 1 if any(r.violations for r in results) else 0


def _result(raw: dict[str, Any]) -> Result:
    return Result(**{**raw, "statuses": Counter(raw.get("statuses") or {})})


def _progress(results: list[Result], total: int, out: Path | None) -> None:
    last = results[-1]
    if out is not None:
        with out.open("a") as sink:
            sink.write(json.dumps({**last.__dict__, "statuses": dict(last.statuses)}) + "\n")
    flag = " VIOLATION" if last.violations else ""
    print(
        f"[{len(results)}/{total}] seed {last.seed}: tap {last.tap_outcome}, "
        f"target {last.target_outcome}, {last.seconds:.1f} s{flag}",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
