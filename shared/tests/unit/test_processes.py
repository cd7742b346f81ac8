"""How a service is served: uvloop, httptools, and as many worker processes as configured."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linli_shared import cli
from linli_shared.processes import ServiceProcess, uvicorn_command, worker_count


def test_one_worker_unless_told() -> None:
    assert worker_count("registry", {}) == 1


def test_the_services_own_worker_count_wins_over_the_deployment_wide_one() -> None:
    environ = {"LINLI_WORKERS": "3", "LINLI_FUND_WORKERS": "2"}
    assert worker_count("fund", environ) == 2
    assert worker_count("points", environ) == 3


@pytest.mark.parametrize("raw", ["0", "-1", "two"])
def test_a_worker_count_that_is_not_a_positive_whole_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="registry"):
        worker_count("registry", {"LINLI_REGISTRY_WORKERS": raw})


def test_services_are_served_with_uvloop_httptools_and_their_workers() -> None:
    command = uvicorn_command("linli_points.app:create_app", host="127.0.0.1", port=8102, workers=4)
    text = " ".join(command)
    assert "--factory linli_points.app:create_app" in text
    assert "--loop uvloop" in text
    assert "--http httptools" in text
    assert "--workers 4" in text


def test_a_service_process_serves_its_own_app_unless_given_another(tmp_path: Path) -> None:
    assert ServiceProcess("notify", 1, {}, tmp_path / "n.log").app == "linli_notify.app:create_app"
    bare = ServiceProcess("bare", 1, {}, tmp_path / "b.log", app="tests.bench.bare_app:create_app")
    assert bare.app == "tests.bench.bare_app:create_app"


def test_linli_serve_runs_uvicorn_with_the_services_options_and_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[list[str]] = []

    def fake_execv(path: str, command: list[str]) -> None:
        ran.append(command)
        raise SystemExit(0)  # as the real one, it does not come back

    monkeypatch.setattr(os, "execv", fake_execv)
    monkeypatch.setenv("LINLI_REGISTRY_HTTP_PORT", "8101")
    monkeypatch.setenv("LINLI_WORKERS", "3")
    with pytest.raises(SystemExit):
        cli.main(["serve", "registry", "--host", "0.0.0.0"])
    (command,) = ran
    assert " ".join(command).endswith(
        "--factory linli_registry.app:create_app --host 0.0.0.0 --port 8101"
        " --loop uvloop --http httptools --no-access-log --workers 3"
    )
