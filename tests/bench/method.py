"""How the benchmark measured each row: printed under the tables."""

from __future__ import annotations

from tests.bench.event_flow import RAW_FETCH_BATCH
from tests.bench.fund_http import AMOUNT
from tests.bench.http_rows import CONNECTIONS, ROUNDS, SECONDS, SERVICE_WORKERS, WARMUP_SECONDS
from tests.bench.http_rows import VOLUNTEERS as HTTP_VOLUNTEERS
from tests.bench.notify_flow import NOTIFY_ENV, VOLUNTEERS
from tests.bench.points_http import CREDIT, PRICE
from tests.bench.sizes import CREDITS, DONATIONS, EVENTS, NOTIFICATIONS, REDEMPTIONS, WARMUP, WORKERS
from tests.bench.wrk import WRK_THREADS


def print_method() -> None:
    """How every row was measured, with the sizes of this run."""
    print(
        f"""
How it was measured (nothing asserted on time):
- HTTP rows measured with wrk (residents, credits, donations; PostgreSQL): the service runs as its
  own uvicorn process (ServiceProcess: --loop uvloop --http httptools, no access log,
  LINLI_WORKERS={SERVICE_WORKERS} worker(s); its own nats-server, relay on) and is loaded by wrk
  ({WRK_THREADS} threads, {CONNECTIONS} keep-alive connections, a Lua script giving each request its own
  body and Idempotency-Key). Both servers run at once: {WARMUP_SECONDS:g} s of warm-up each, then
  {SECONDS:g} s timed each in {ROUNDS} alternating rounds of {SECONDS / ROUNDS:g} s (Linli, bare, Linli, …;
  after each Linli round its relay is let publish what the round left, untimed), so that a machine
  whose speed drifts weighs on both alike; rates and CPU add the rounds up, p50 is the rounds'
  median, p99 their worst. Bare: FastAPI + asyncpg (tests/bench/bare_app.py) under the same
  uvicorn options and workers, loaded the same way, doing the same inserts in one transaction on a
  database migrated by the service's migrations: residents = INSERT resident, 2 statistics rollup
  upserts, 2 outbox rows; credits = UPDATE points_account RETURNING balance, INSERT points_entry,
  outbox row, idempotency record ({HTTP_VOLUNTEERS} accounts round-robin);
  donations = receipt counter, 2 guarded balances, journal entry, 2 postings, donation, outbox row,
  idempotency record. Not in the bare path: the token, validation models, the look-ups, the relay.
  CPU ms/req = user+system time of the server's processes during the timed run ÷ requests (the
  Linli figure includes its relay publishing the events); RSS = each server process after the run;
  hello = the bare server's GET /hello, loaded the same way: it must run ≥ 5x the Linli rate, or
  the client is the ceiling. The load average (1, 5, 15 min) is taken as each run starts.
- Rows measured with httpx and raw drivers (time.perf_counter):
- residents/s (HTTP): the registry runs as its own uvicorn process (ServiceProcess: no access
  log; the clock starts only once /readyz answers) with its own nats-server; {WORKERS}
  httpx.AsyncClient workers POST /v1/residents as a community worker, {WARMUP} warm-up requests
  first, untimed. Bare: the same resident rows (hash, mask, uuid made beforehand) inserted raw
  into a database migrated by the registry's own migrations, one transaction per row, {WORKERS}
  connections, same driver (asyncpg / aiosqlite; SQLite with the same WAL, synchronous=FULL and
  BEGIN IMMEDIATE as make_engine).
- redemptions/s (HTTP): the points service runs as its own process (as above) with its own
  nats-server and database. Untimed setup: {REDEMPTIONS + WARMUP} volunteers enrolled (POST
  /v1/volunteers), each credited {PRICE} points (POST /v1/points/adjustments), one item at {PRICE} points
  created and stocked with one per volunteer; the relay is let drain. Then {WARMUP} warm-up and
  {REDEMPTIONS} timed POST /v1/redemptions, each by a different volunteer with their own token
  (role volunteer) and its own Idempotency-Key, from {WORKERS} httpx clients; all hit the same item
  row. Bare: the same effect as raw SQL on a database migrated by the points migrations, seeded the
  same way (untimed), one transaction per redemption over {WORKERS} connections, same driver:
  UPDATE points_account … WHERE balance >= price RETURNING balance, INSERT points_entry, UPDATE
  item … WHERE stock >= 1 RETURNING stock, INSERT redemption. Not in the bare path: the token,
  the idempotency record, the outbox row, the volunteer/item lookups and the monthly-limit query.
- points credited/s (HTTP): on the same process after the redemptions, {WARMUP} warm-up and
  {CREDITS} timed POST /v1/points/adjustments of +{CREDIT} as a community worker, each with its own
  Idempotency-Key, spread round-robin over the volunteers, {WORKERS} clients. Bare: UPDATE
  points_account SET balance = balance + {CREDIT} RETURNING balance, INSERT points_entry, one
  transaction each, {WORKERS} connections.
  After each timed run (untimed) the effects are checked: redemptions, redeemed entries, stock
  left, sum of balances, sum of the ledger; a mismatch prints a WARNING and shows under the table.
- journal entries/s (HTTP): the fund runs as its own process (as above) with its own nats-server and
  database. {WARMUP} warm-up and {DONATIONS} timed POST /v1/donations as a community worker, each
  with its own Idempotency-Key, from {WORKERS} httpx clients: {AMOUNT} fen in cash to the general
  fund; each takes the next receipt number and posts one balanced entry (assets:cash against
  income:donations:general), so all of them queue on the same receipt counter and guarded rows.
  Bare: the same rows as raw SQL on a database migrated by the fund migrations, the community's
  chart, guarded rows and receipt counter made beforehand (untimed), one transaction per donation
  over {WORKERS} connections, same driver: UPDATE receipt_counter … RETURNING last_number, UPDATE
  guarded_balance … RETURNING balance for assets:cash and funds:general (in name order, as
  post_entry), INSERT journal_entry … RETURNING id, two INSERT posting, INSERT donation. Not in the
  bare path: the token, the idempotency record, the outbox row, the receipt-counter and chart
  look-ups (insert_missing, ensure_chart). After each run (untimed): donations, entries and
  postings counted, the trial balance (sum of all postings) and every entry sum to zero, receipt
  sequences are 1..N with N distinct numbers, the guarded balances hold N × {AMOUNT}.
- events/s: {EVENTS} ResidentTagsChanged envelopes staged in the outbox beforehand (untimed); the
  clock runs from starting OutboxRelay.run() (publishing through Bus) until the consumer's
  inbox_entry table holds all of them, written by subscribe_inbox → Inbox.handle_batch (fetched
  batches of {RAW_FETCH_BATCH}, one transaction each). Producer
  and consumer each have a database of their own on the same server; both run in this process.
  Bare: a fresh nats-server with the same stream and consumer configuration (sync_interval: always
  on both), publish_async of the same subjects, payloads and Nats-Msg-Id with 500 acks in flight,
  while a pull consumer fetches batches of {RAW_FETCH_BATCH} and acks; clock stops at the last ack.
- notifications/s: a notify process (as above) on its own database and nats-server, with dispatch
  every {NOTIFY_ENV["LINLI_NOTIFY_DISPATCH_SECONDS"]} s, no quiet hours (start = end = 00:00), no
  outside channels and no outbox file (in-app inbox only), the daily digest off. {WARMUP} warm-up events
  first, until delivered (untimed). Then {NOTIFICATIONS} points.points.redeemed envelopes (Envelope.wrap,
  {VOLUNTEERS} volunteers round-robin) go straight to JetStream by await js.publish one by one with
  Nats-Msg-Id; the clock runs from the first publish until the delivery table holds a sent row for
  every event (polled every 20 ms): notify's subscribe_inbox → rules → notification + delivery, then
  the dispatcher marks it sent. Afterwards (untimed): inbox entries, notifications, deliveries, all
  sent, all on the inbox channel. Bare: a fresh nats-server with the same stream and a pull
  consumer of the same filter; the same messages published the same way while the consumer
  fetches (batch {RAW_FETCH_BATCH}), inserts one row per message in its own transaction (same driver,
  one connection) and acks; clock stops at the last commit and ack.
- bare÷Linli: how many times the bare baseline's rate exceeds Linli's."""
    )
