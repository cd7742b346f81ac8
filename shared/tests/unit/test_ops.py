"""The ops tool's own rules: where it looks, and what it counts as a problem."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from linli_shared.cli import main
from linli_shared.ops.broker import ConsumerLag
from linli_shared.ops.outbox import OutboxBacklog, UnsentRow
from linli_shared.ops.status import Limits, OutboxStatus, consumers_with_letters, outbox_problems
from linli_shared.ops.targets import parse_pairs, shown, targets_from
from linli_shared.stack import EMBEDDED_NATS_PORT


def test_targets_come_from_the_services_environment(tmp_path: Path) -> None:
    environ = {
        "LINLI_NATS_URL": "nats://hub:4222",
        "LINLI_FUND_HTTP_PORT": "9103",
        "LINLI_FUND_DATABASE_URL": "postgresql+asyncpg://fund:secret@db/fund",
    }
    (tmp_path / "notify.db").touch()
    targets = targets_from(nats_url=None, urls=None, databases=None, var=tmp_path, environ=environ)
    assert targets.nats_url == "nats://hub:4222"
    assert targets.services["fund"] == "http://127.0.0.1:9103"
    assert targets.services["registry"] == "http://127.0.0.1:8101"
    assert set(targets.databases) == {"fund", "notify"}


def test_targets_given_on_the_command_line_replace_the_environment(tmp_path: Path) -> None:
    environ = {"LINLI_FUND_DATABASE_URL": "sqlite+aiosqlite:///fund.db"}
    targets = targets_from(
        nats_url="nats://x:1",
        urls=["points=http://p:1"],
        databases=["points=sqlite:///p.db"],
        var=tmp_path,
        environ=environ,
    )
    assert (targets.nats_url, targets.services, targets.databases) == (
        "nats://x:1",
        {"points": "http://p:1"},
        {"points": "sqlite:///p.db"},
    )


def test_nats_of_the_local_stack_when_its_data_is_there(tmp_path: Path) -> None:
    assert targets_from(nats_url=None, urls=None, databases=None, var=tmp_path, environ={}).nats_url.endswith(
        ":4222"
    )
    (tmp_path / "nats").mkdir()
    local = targets_from(nats_url=None, urls=None, databases=None, var=tmp_path, environ={}).nats_url
    assert local == f"nats://127.0.0.1:{EMBEDDED_NATS_PORT}"


def test_malformed_pair_rejected_with_the_option_named() -> None:
    with pytest.raises(ValueError, match="--db wants NAME=VALUE"):
        parse_pairs(["registry"], "--db")


def test_malformed_pair_is_a_usage_error_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "--db", "nonsense"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "linli outbox: --db wants NAME=VALUE, got 'nonsense'"
    ]


def test_database_password_never_shown() -> None:
    assert "secret" not in shown("postgresql+asyncpg://fund:secret@db/fund")


def test_consumer_gone_from_jetstream_still_shows_its_dead_letters() -> None:
    lags = [ConsumerLag("LINLI_REGISTRY", "notify-registry", pending=4, ack_pending=1, redelivered=0)]
    rows = consumers_with_letters(lags, {"notify-registry": 2, "points-registry-old": 1})
    assert [(r.durable, r.pending, r.dead_letters) for r in rows] == [
        ("notify-registry", 4, 2),
        ("points-registry-old", None, 1),
    ]


def test_outbox_is_a_problem_once_its_oldest_row_waits_past_the_limit() -> None:
    written = datetime(2026, 1, 1, tzinfo=UTC)
    row = UnsentRow(7, "e7", "linli.d.registry.x", written, attempts=3, last_error="timeout")
    backlog = OutboxBacklog(5, row)
    fresh = OutboxStatus.of("registry", "sqlite:///r.db", backlog, written.replace(second=30))
    stale = OutboxStatus.of("registry", "sqlite:///r.db", backlog, written.replace(minute=5))
    empty = OutboxStatus.of("fund", "sqlite:///f.db", OutboxBacklog(0, None), written)
    assert outbox_problems([fresh, empty], Limits(stale_outbox_seconds=60)) == []
    assert outbox_problems([stale], Limits(stale_outbox_seconds=60)) == [
        "registry outbox: 5 unsent, the oldest 300 s old"
    ]
    unreadable = OutboxStatus("points", "sqlite:///p.db", error="no database file at p.db")
    assert outbox_problems([unreadable], Limits()) == ["points outbox: no database file at p.db"]
