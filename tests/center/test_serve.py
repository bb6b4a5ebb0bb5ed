"""``accord serve``: settings from the options and the environment, uvicorn on loopback by
default, and an application that does no work until it starts."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from accord.center.app import create_app, from_environment
from accord.center.bootstrap import BASEMAP_ENV, Parts
from accord.center.reader_process import ReaderSocket
from accord.center.writer_process import WriterSocket
from accord.chrono import parse_instant
from accord.cli import app as cli
from support.basemap import write_basemap
from support.service import TestClient, settings_for


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``accord serve`` hands uvicorn (which does not run): the application (and, for
    one process, the settings of its parts) and the server's options."""
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"] = app
        if isinstance(app, FastAPI):
            seen["settings"] = app.state.parts.settings
        seen.update(kwargs)

    monkeypatch.setattr("uvicorn.run", fake_run)
    return seen


def _restored_after(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Unset ``names`` for the test and restore them after it: ``serve --workers`` sets them."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_serve_defaults_to_loopback_and_reads_the_environment(
    captured: dict[str, Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    result = CliRunner().invoke(
        cli, ["serve", "--keys", str(tmp_path / "k")], env={"ACCORD_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    assert (captured["host"], captured["port"]) == ("127.0.0.1", 8000)
    assert captured["settings"].database_url == url
    assert captured["settings"].keys_dir == tmp_path / "k"
    assert "http://127.0.0.1:8000" in result.stderr
    assert not (tmp_path / "env.sqlite").exists()  # nothing happens before uvicorn starts it


def test_serve_options_win_over_the_environment(captured: dict[str, Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'opt.sqlite'}"
    result = CliRunner().invoke(
        cli,
        ["serve", "--database", url, "--port", "8123", "--host", "127.0.0.2"],
        env={"ACCORD_DATABASE_URL": "sqlite:///elsewhere.sqlite"},
    )
    assert result.exit_code == 0, result.output
    assert captured["settings"].database_url == url
    assert (captured["host"], captured["port"]) == ("127.0.0.2", 8123)


def test_serve_refuses_a_bad_agreement(captured: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--agreement", str(bad)])
    assert result.exit_code == 2
    assert "field" in result.stderr
    assert "app" not in captured


def test_the_app_opens_the_database_only_when_it_starts(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    app = create_app(Parts(settings))
    assert not (tmp_path / "accord.sqlite").exists() and not (tmp_path / "keys").exists()
    with TestClient(app):
        assert (tmp_path / "accord.sqlite").exists()
        assert (tmp_path / "keys" / "jig-example.accord.key").exists()


def test_a_database_of_another_agreement_is_refused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with TestClient(create_app(Parts(settings))):
        pass
    other = tmp_path / "other.yaml"
    text = Path(settings.agreement_path).read_text(encoding="utf-8")
    other.write_text(text.replace("id: jig-example", "id: other-agreement"), encoding="utf-8")
    app = create_app(Parts(settings_for(tmp_path, agreement_path=other, keys_dir=tmp_path / "k2")))
    with pytest.raises(Exception, match=r"jig-example\.accord"), TestClient(app):
        pass


def test_serve_with_workers_hands_the_settings_to_each_process(
    captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _restored_after(monkeypatch, "ACCORD_DATABASE_URL", "ACCORD_AGREEMENT", "ACCORD_KEYS_DIR")
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    keys = tmp_path / "k"
    result = CliRunner().invoke(
        cli, ["serve", "--workers", "2", "--database", url, "--keys", str(keys)]
    )
    assert result.exit_code == 0, result.output
    assert captured["app"] == "accord.center.app:from_environment"
    assert captured["factory"] is True and captured["workers"] == 2
    assert captured["host"] == "127.0.0.1"
    assert (keys / "jig-example.accord.key").exists() and (keys / "blue.key").exists()
    # What a worker process builds from the environment it inherits.
    settings = from_environment().state.parts.settings
    assert settings.database_url == url and settings.keys_dir == keys
    assert CliRunner().invoke(cli, ["serve", "--workers", "0"]).exit_code == 2


def test_workers_share_one_exercise_clock(
    captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--clock-start`` with several workers: every process reads the same exercise time,
    the start instant plus the time since the command started it on the machine's
    monotonic clock (one for every process)."""
    _restored_after(
        monkeypatch, "ACCORD_DATABASE_URL", "ACCORD_AGREEMENT", "ACCORD_KEYS_DIR", "ACCORD_CLOCK"
    )
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--workers",
            "2",
            "--database",
            url,
            "--keys",
            str(tmp_path / "k"),
            "--clock-start",
            "2026-10-01T00:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.output
    assert captured["workers"] == 2
    built = [from_environment().state.parts.clock for _ in range(2)]
    first, second = (clock() for clock in built)
    start = parse_instant("2026-10-01T00:00:00Z")
    assert start <= first <= second <= start + timedelta(seconds=time.monotonic() - started)
    assert second - first < timedelta(seconds=1)
    monkeypatch.setenv("ACCORD_CLOCK", "2026-10-01T00:00:00Z")
    with pytest.raises(ValueError, match="ACCORD_CLOCK: expected START@ORIGIN"):
        from_environment()
    for extra in (["--workers", "2"], ["--writer-process"], ["--reader-process"]):
        demo = CliRunner().invoke(cli, ["serve", *extra, "--demo"])
        assert demo.exit_code != 0 and "drop --workers" in demo.output


@pytest.mark.parametrize(
    ("name", "line"), [("writer", WriterSocket), ("reader", ReaderSocket)], ids=["writer", "reader"]
)
def test_the_processes_in_front_of_a_writer_or_reader_process_get_its_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, line: type[Any]
) -> None:
    """What ``accord serve --writer-process`` (``--reader-process``) hands its HTTP
    processes: the writer's (reader's) socket, where they send their writes (heavy reads);
    the process itself is started and stopped in the end-to-end tests."""
    variable = f"ACCORD_{name.upper()}_SOCKET"
    monkeypatch.delenv(variable, raising=False)
    assert getattr(from_environment().state.parts, name) is None
    monkeypatch.setenv(variable, str(tmp_path / f"{name}.sock"))
    assert getattr(from_environment().state.parts, name) == line(tmp_path / f"{name}.sock")


def test_fastapis_own_telemetry_stays_off_when_the_process_has_exporters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI's native OpenTelemetry capture (request bodies, arguments, exception
    messages) would run as soon as the process had providers; the service never turns it
    on."""
    from opentelemetry import _logs, metrics, trace
    from opentelemetry._logs import NoOpLoggerProvider
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    monkeypatch.setattr(trace, "get_tracer_provider", NoOpTracerProvider)
    monkeypatch.setattr(metrics, "get_meter_provider", NoOpMeterProvider)
    monkeypatch.setattr(_logs, "get_logger_provider", NoOpLoggerProvider)
    assert FastAPI()._native_telemetry.enabled()  # a configured process: on by default
    app = create_app(Parts(settings_for(tmp_path)))
    assert not app._native_telemetry.enabled()


def test_serve_hands_uvicorn_the_log_format_asked(
    captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uvicorn.config import LOGGING_CONFIG

    from accord.center.logs import LOG_FORMAT_ENV

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    monkeypatch.delenv(LOG_FORMAT_ENV, raising=False)
    plain = CliRunner().invoke(cli, ["serve", "--database", url])
    assert plain.exit_code == 0, plain.output
    assert captured["log_config"] is LOGGING_CONFIG  # uvicorn's own lines, as before
    monkeypatch.setattr("logging.config.dictConfig", lambda config: None)  # not this pytest's
    made = CliRunner().invoke(cli, ["serve", "--database", url, "--log-format", "json"])
    assert made.exit_code == 0, made.output
    formatter = captured["log_config"]["formatters"]["json"]["()"]
    assert formatter == "accord.center.logs.JsonFormatter"
    import os

    assert os.environ[LOG_FORMAT_ENV] == "json"  # the writer process logs the same way
    bad = CliRunner().invoke(cli, ["serve", "--database", url, "--log-format", "xml"])
    assert bad.exit_code != 0 and "--log-format: 'xml' is not one of text, json" in bad.output


def test_serve_checks_the_basemap_before_it_starts(
    captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A basemap the page could not draw stops ``accord serve`` with its name and what is
    wrong, before anything starts; a good one reaches the one process's settings, and the
    workers' environment as an absolute path."""
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    bad = tmp_path / "raster.pmtiles"
    bad.write_bytes(b"PNG, not PMTiles" * 20)
    refused = CliRunner().invoke(cli, ["serve", "--database", url, "--basemap", str(bad)])
    assert refused.exit_code == 2
    assert f"{bad}: not a PMTiles archive" in refused.stderr
    assert "Traceback" not in refused.output
    assert "app" not in captured and not (tmp_path / "b.sqlite").exists()
    good = write_basemap(tmp_path / "theater.pmtiles")
    served = CliRunner().invoke(cli, ["serve", "--database", url, "--basemap", str(good)])
    assert served.exit_code == 0, served.output
    assert captured["settings"].basemap == good
    monkeypatch.chdir(tmp_path)
    _restored_after(
        monkeypatch, "ACCORD_DATABASE_URL", "ACCORD_AGREEMENT", "ACCORD_KEYS_DIR", BASEMAP_ENV
    )
    workers = CliRunner().invoke(
        cli,
        [
            "serve",
            "--workers",
            "2",
            "--database",
            url,
            "--keys",
            "k",
            "--basemap",
            "theater.pmtiles",
        ],
    )
    assert workers.exit_code == 0, workers.output
    # What a worker process builds from the environment it inherits.
    assert from_environment().state.parts.settings.basemap == good.resolve()
