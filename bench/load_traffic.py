"""What ``bench/load.py`` sends: the single screens as a wrk Lua script paced to a constant
rate, and the side traffic (batches, passenger lists, hit answers, record changes) from a
Python thread at a low rate, each request's latency and answer kept."""

from __future__ import annotations

import random
import sqlite3
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import orjson

from bordercheck.documents.mrz_generate import generate_mrz
from bordercheck.documents.types import DocumentType
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.training.synthetic import ISSUERS, SyntheticRegistry

# Border posts the single screens come from (the screening log keeps them).
POSTS = ("CDG-T2E", "CDG-T1", "ORY-S", "LYS-T1", "NCE-T2", "MRS-PORT", "CAL-FERRY", "STR-RAIL")
MRZ_FORMATS = {"passport": ("TD3", "P"), "identity_card": ("TD1", "I")}


@dataclass(frozen=True)
class Recorded:
    """A document the registry holds, as the bench screens it and its owner changes it."""

    id: int
    document_number: str
    issuing_country: str
    document_type: str
    surname: str
    given_names: str
    nationality: str
    birth_date: date | None
    expiry_date: date | None


def recorded_documents(database: Path, count: int, seed: int) -> list[Recorded]:
    """``count`` active, issued (not blank), unrestricted records, drawn at random."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        (top,) = db.execute("SELECT max(id) FROM records").fetchone()
        rng = random.Random(seed)
        ids = rng.sample(range(1, top + 1), min(top, count * 4))
        found: list[Recorded] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = db.execute(
                "SELECT id, document_number, issuing_country, document_type, holder_surname,"
                " holder_given_names, holder_nationality, holder_birth_date, expiry_date"
                " FROM records WHERE withdrawn_key = 0 AND blank = 0 AND withheld_from IS NULL"
                " AND id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(chunk).decode(),),
            ).fetchall()
            for row in rows:
                found.append(
                    Recorded(
                        id=row[0], document_number=row[1], issuing_country=row[2],
                        document_type=row[3], surname=row[4] or "UNKNOWN",
                        given_names=row[5] or "", nationality=row[6] or row[2],
                        birth_date=_day(row[7]), expiry_date=_day(row[8]),
                    )
                )  # fmt: skip
            if len(found) >= count:
                break
    if not found:
        raise SystemExit(f"{database} holds no active issued record to screen")
    return found[:count]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def mrz_lines(doc: Recorded) -> str | None:
    """The document's MRZ as a reader would send it, or None for a type without one here."""
    layout = MRZ_FORMATS.get(doc.document_type)
    if layout is None:
        return None
    lines = generate_mrz(
        mrz_format=layout[0], document_code=layout[1], issuing_country=doc.issuing_country,
        document_number=doc.document_number, surname=doc.surname, given_names=doc.given_names,
        nationality=doc.nationality, birth_date=doc.birth_date, sex="F",
        expiry_date=doc.expiry_date,
    )  # fmt: skip
    return "\n".join(lines)


def unrecorded_documents(count: int, seed: int) -> list[Recorded]:
    """Documents in the shapes of the synthetic issuers that the registry does not hold
    (another seed than the demo's: a clash is possible but about as rare as in life)."""
    synthetic = SyntheticRegistry(seed)
    out = []
    for _ in range(count):
        row = synthetic.record()
        out.append(
            Recorded(
                id=0, document_number=row["document_number"],
                issuing_country=row["issuing_country"], document_type=row["document_type"],
                surname=row.get("holder_surname") or "DOE",
                given_names=row.get("holder_given_names") or "", nationality=row["issuing_country"],
                birth_date=row.get("holder_birth_date"), expiry_date=row.get("expiry_date"),
            )
        )  # fmt: skip
    return out


def screen_body(doc: Recorded, rng: random.Random, *, mrz: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"location": rng.choice(POSTS)}
    lines = mrz_lines(doc) if mrz else None
    if lines is not None:
        body["mrz"] = lines
    else:
        body["document_number"] = doc.document_number
        body["issuing_country"] = doc.issuing_country
        if rng.random() < 0.5:  # half the systems send the type they read
            body["document_type"] = doc.document_type
    return body


@dataclass(frozen=True)
class Mix:
    """Shares of the single screens: recorded documents, and MRZs among the rest."""

    recorded: float = 0.01
    mrz: float = 0.10


def single_bodies(recorded: list[Recorded], count: int, seed: int, mix: Mix = Mix()) -> list[bytes]:
    """``count`` single-screen bodies in the mix's exact shares, shuffled."""
    rng = random.Random(seed)
    n_recorded = round(count * mix.recorded)
    n_mrz = round(count * mix.mrz)
    clean = unrecorded_documents(count - n_recorded, seed + 1)
    bodies = [
        screen_body(recorded[i % len(recorded)], rng, mrz=i % 2 == 1) for i in range(n_recorded)
    ]
    # MRZs are read from passports and identity cards; the other documents are typed in.
    readable = [d for d in clean if d.document_type in MRZ_FORMATS]
    others = [d for d in clean if d.document_type not in MRZ_FORMATS]
    bodies += [screen_body(d, rng, mrz=True) for d in readable[:n_mrz]]
    bodies += [screen_body(d, rng, mrz=False) for d in readable[n_mrz:] + others]
    rng.shuffle(bodies)
    return [orjson.dumps(b) for b in bodies]


LUA = r"""-- Single screens at a constant rate for bench/load.py (generated: edit load_traffic.py).
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1000000
end

local token = "@TOKEN@"
local rate = @RATE@
local thread_count = @THREADS@
local bodies = {
@BODIES@
}

-- The main state: one entry per thread, read back in done().
local started_threads = {}
function setup(thread)
  thread:set("id", #started_threads)
  table.insert(started_threads, thread)
end

-- Each thread: its own request table, schedule and tallies (globals, for thread:get).
local requests, position = {}, 0
local interval, next_slot = 0, nil
local slots, head, tail = {}, 1, 0
lags, statuses, results, errors, sent = {}, {}, {}, {}, 0

function init(args)
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/api/v1/screen", headers, body)
  end
  position = (id * 7919) % #requests
  interval = 1000.0 * thread_count / rate
end

-- Called before each request a connection sends: the request takes the thread's next slot
-- of the constant-rate schedule and waits for it (wrk's delays are whole milliseconds, so
-- it may leave up to 1 ms early). A slot already past is sent at once, late.
function delay()
  local now = now_ms()
  if next_slot == nil then next_slot = now end
  local slot = next_slot
  next_slot = slot + interval
  tail = tail + 1
  slots[tail] = slot
  local wait = slot - now
  if wait < 1 then return 0 end
  return math.floor(wait)
end

-- The oldest slot waiting is this request's (the timers fire in slot order): how late it
-- leaves, in steps of 0.1 ms up to 10 s.
function request()
  local slot = slots[head]
  if slot ~= nil then
    slots[head] = nil
    head = head + 1
    local lag = now_ms() - slot
    local step = 0
    if lag > 0 then step = math.min(math.floor(lag * 10), 100000) end
    lags[step] = (lags[step] or 0) + 1
  end
  position = position % #requests + 1
  sent = sent + 1
  return requests[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local result = string.match(body, '"result":"([a-z_]+)"') or "unreadable"
    results[result] = (results[result] or 0) + 1
  else
    local code = string.match(body, '"error":"([%w_]+)"') or "no_error_code"
    local key = status .. " " .. code
    errors[key] = (errors[key] or 0) + 1
  end
end

local function encode(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for k, v in pairs(value) do
      parts[#parts + 1] = string.format("%q:%s", tostring(k), encode(v))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "string" then
    return string.format("%q", value)
  elseif kind == "number" then
    return string.format("%.17g", value)
  end
  return "null"
end

function done(summary, latency, requests)
  local out = {
    duration_us = summary.duration, requests = summary.requests, bytes = summary.bytes,
    socket_errors = summary.errors,
    latency_us = {min = latency.min, max = latency.max, mean = latency.mean},
    percentiles = {}, threads = {},
  }
  for _, p in ipairs({50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99}) do
    out.percentiles[string.format("%g", p)] = latency:percentile(p)
  end
  for i, thread in ipairs(started_threads) do
    out.threads[i] = {
      lags = thread:get("lags"), statuses = thread:get("statuses"),
      results = thread:get("results"), errors = thread:get("errors"), sent = thread:get("sent"),
    }
  end
  io.write("LOADRESULT " .. encode(out) .. "\n")
end
"""


def lua_script(bodies: list[bytes], token: str, rate: float, threads: int) -> str:
    quoted = []
    for body in bodies:
        text = body.decode()
        level = "="
        while f"]{level}]" in text:
            level += "="
        quoted.append(f"[{level}[{text}]{level}]")
    return (
        LUA.replace("@TOKEN@", token)
        .replace("@RATE@", repr(float(rate)))
        .replace("@THREADS@", str(threads))
        .replace("@BODIES@", ",\n".join(quoted))
    )


@dataclass
class Tally:
    """One kind of side request: how many, how long, and what went wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        if not self.latencies_ms:
            return "none"
        ordered = sorted(self.latencies_ms)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return (
            f"{len(ordered):,} requests, p50 {statistics.median(ordered):.0f} ms, "
            f"p99 {p99:.0f} ms, max {ordered[-1]:.0f} ms"
        )


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


class Tokens:
    """A client's bearer token, fetched again before it expires, as a gateway would."""

    def __init__(self, http: httpx2.Client, credentials: Credentials) -> None:
        self.http = http
        self.credentials = credentials
        self.token = ""
        self.renew_at = 0.0

    def headers(self) -> dict[str, str]:
        if time.monotonic() >= self.renew_at:
            self.token, lifetime = fetch_token(self.http, self.credentials)
            self.renew_at = time.monotonic() + lifetime * 0.8
        return {"Authorization": f"Bearer {self.token}"}


def fetch_token(http: httpx2.Client, credentials: Credentials) -> tuple[str, float]:
    answer = http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": credentials.client_id,
              "client_secret": credentials.client_secret},
    )  # fmt: skip
    if answer.status_code != 200:
        raise SystemExit(f"no token for {credentials.client_id}: {answer.text[:200]}")
    body = answer.json()
    return str(body["access_token"]), float(body.get("expires_in", 600))


@dataclass(frozen=True)
class Periods:
    """Seconds between side requests of each kind."""

    batch: float = 2.0  # 500 documents
    manifest: float = 6.0  # a 300-traveller flight
    record_create: float = 2.0
    record_update: float = 2.0
    record_withdraw: float = 10.0
    hit_answers: float = 3.0  # the owner's open cases read, up to 5 answered


class SideTraffic(threading.Thread):
    """Batches and passenger lists from the gateway; the owning bureau (DEU) answering its
    hit cases and creating, changing and withdrawing its records."""

    BATCH = 500
    ANSWERS = 5

    def __init__(
        self,
        base: str,
        gateway: Credentials,
        owner: Credentials,
        recorded: list[Recorded],
        seed: int,
        periods: Periods = Periods(),
    ) -> None:
        super().__init__(name="side-traffic", daemon=True)
        self.base = base
        self.gateway = gateway
        self.owner = owner
        self.recorded = recorded
        self.owned = [r for r in recorded if r.issuing_country == "DEU"]
        self.rng = random.Random(seed)
        self.periods = periods
        self.tallies: dict[str, Tally] = {}
        self.stopping = threading.Event()
        self.cpu_seconds = 0.0
        self.new_records: list[tuple[float, Recorded]] = []  # created, not yet screened
        self.created: list[int] = []
        self.new_found = [0, 0]  # new records found by a later batch, of those screened
        self.clean = unrecorded_documents(5_000, seed + 7)
        self.deu = next(i for i in ISSUERS if i.country == "DEU")
        self.numbers = SyntheticRegistry(seed + 11)
        self.flights = 0

    def tally(self, kind: str) -> Tally:
        return self.tallies.setdefault(kind, Tally())

    def call(self, kind: str, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        """One request, timed and tallied; its JSON answer, or None when it failed."""
        tally = self.tally(kind)
        started = time.perf_counter()
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx2.HTTPError as error:
            tally.errors[f"transport {type(error).__name__}"] += 1
            return None
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code != expect:
            try:
                code = answer.json().get("error", "?")
            except ValueError:
                code = answer.text[:40]
            tally.errors[f"{answer.status_code} {code}"] += 1
            return None
        return answer.json()

    def run(self) -> None:
        started_cpu = time.thread_time()
        with httpx2.Client(base_url=self.base, timeout=30) as self.http:
            self.gateway_tokens = Tokens(self.http, self.gateway)
            self.owner_tokens = Tokens(self.http, self.owner)
            actions = {
                "batch": self.batch, "manifest": self.manifest,
                "record_create": self.record_create, "record_update": self.record_update,
                "record_withdraw": self.record_withdraw, "hit_answers": self.hit_answers,
            }  # fmt: skip
            now = time.monotonic()
            due = {name: now + self.rng.random() * getattr(self.periods, name) for name in actions}
            while not self.stopping.is_set():
                name = min(due, key=due.__getitem__)
                wait = due[name] - time.monotonic()
                if wait > 0 and self.stopping.wait(wait):
                    break
                # A fixed rate: when behind, the next one goes at once, not a period later.
                due[name] += getattr(self.periods, name)
                try:
                    actions[name]()
                except SystemExit as error:  # a token refused: count it, keep going
                    self.tally(name).errors[f"token {error}"[:80]] += 1
        self.cpu_seconds = time.thread_time() - started_cpu

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=120)

    def batch(self) -> None:
        docs = [self.rng.choice(self.clean) for _ in range(self.BATCH)]
        for i in range(self.BATCH // 100):  # 1 % recorded, as in the single screens
            docs[i * 100] = self.rng.choice(self.recorded)
        ready = [(t, d) for t, d in self.new_records if time.monotonic() - t >= 2.0]
        self.new_records = [(t, d) for t, d in self.new_records if time.monotonic() - t < 2.0]
        fresh = [d for _, d in ready]
        body = {
            "documents": [
                {"document_number": d.document_number, "issuing_country": d.issuing_country,
                 "document_type": d.document_type, "location": "CDG-T2E"}
                for d in docs + fresh
            ]
        }  # fmt: skip
        answer = self.call(
            "batch", "POST", "/api/v1/screen/batch", 200,
            content=orjson.dumps(body),
            headers={**self.gateway_tokens.headers(), "Content-Type": "application/json"},
        )  # fmt: skip
        if answer is not None and fresh:
            tail = answer["results"][len(docs) :]
            self.new_found[0] += sum(1 for r in tail if r["result"] == "hit")
            self.new_found[1] += len(fresh)

    def manifest(self) -> None:
        self.flights += 1
        planted = [
            TravelDocument(
                "P", DocumentType.PASSPORT, d.document_number, d.issuing_country, d.expiry_date
            )
            for d in self.rng.sample(self.recorded, 2)
            if d.document_type == "passport"
        ]
        flight = synthetic_flight(
            300, seed=1000 + self.flights, flight=f"XB{self.flights % 9000 + 100}",
            planted=planted,
        )  # fmt: skip
        self.call(
            "manifest", "POST", "/api/v1/manifests", 200,
            content=write_paxlst(flight).encode(),
            headers={**self.gateway_tokens.headers(), "Content-Type": "application/edifact"},
        )  # fmt: skip

    def record_create(self) -> None:
        number = self.numbers.unique_number(self.deu)
        body = {
            "document_number": number, "issuing_country": "DEU", "document_type": "passport",
            "status": "stolen", "event_date": "2026-11-30", "event_place": "BERLIN",
            "holder_surname": "MUSTERMANN", "holder_given_names": "ERIKA",
        }  # fmt: skip
        answer = self.call(
            "record_create", "POST", "/api/v1/records", 201,
            json=body, headers=self.owner_tokens.headers(),
        )  # fmt: skip
        if answer is not None:
            self.created.append(int(answer["id"]))
            doc = Recorded(
                id=int(answer["id"]), document_number=number, issuing_country="DEU",
                document_type="passport", surname="MUSTERMANN", given_names="ERIKA",
                nationality="DEU", birth_date=None, expiry_date=None,
            )  # fmt: skip
            self.new_records.append((time.monotonic(), doc))

    def record_update(self) -> None:
        if not self.owned:
            return
        doc = self.rng.choice(self.owned)
        headers = self.owner_tokens.headers()
        current = self.call("record_read", "GET", f"/api/v1/records/{doc.id}", 200,
                            headers=headers)  # fmt: skip
        if current is None:
            return
        note = f"seen again, report {self.rng.randrange(10**6):06d}"
        self.call(
            "record_update", "PATCH", f"/api/v1/records/{doc.id}", 200,
            json={"version": current["version"], "circumstances": note}, headers=headers,
        )  # fmt: skip

    def record_withdraw(self) -> None:
        if len(self.created) < 5:
            return
        record_id = self.created.pop(0)
        headers = self.owner_tokens.headers()
        current = self.call("record_read", "GET", f"/api/v1/records/{record_id}", 200,
                            headers=headers)  # fmt: skip
        if current is None:
            return
        self.call(
            "record_withdraw", "DELETE", f"/api/v1/records/{record_id}", 200,
            params={"version": current["version"], "reason": "found"}, headers=headers,
        )  # fmt: skip

    def hit_answers(self) -> None:
        headers = self.owner_tokens.headers()
        page = self.call(
            "hit_list", "GET", "/api/v1/hits", 200,
            params={"state": "open", "role": "owner", "limit": 20}, headers=headers,
        )  # fmt: skip
        if page is None:
            return
        for hit in page["hits"][: self.ANSWERS]:
            answer = (
                {"answer": "confirmed", "action": "seize_document"}
                if self.rng.random() < 0.7
                else {"answer": "no_match", "note": "a different holder"}
            )
            self.call(
                "hit_answer", "POST", f"/api/v1/hits/{hit['id']}/answer", 200,
                json=answer, headers=headers,
            )  # fmt: skip
