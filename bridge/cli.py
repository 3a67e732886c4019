"""The command line: `python -m bridge plan|...`. Exit codes: 0 ok, 1 problems reported, 2 bad input."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click
import orjson

from bridge.config import BridgeConfig, build_config, load_config
from bridge.errors import BridgeError, ConfigError

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


def expand_paths(patterns: Sequence[str], what: str) -> list[Path]:
    """Paths from paths and globs; a glob that matches nothing is an error naming it."""
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise ConfigError(f"{what} pattern {pattern!r} matches no file. Check the path.")
            paths.extend(Path(m) for m in matches)
        else:
            paths.append(Path(pattern))
    return paths


def _config(config_path: str | None, overrides: dict[str, object]) -> BridgeConfig:
    base = load_config(config_path, os.environ) if config_path else BridgeConfig()
    data = base.model_dump(exclude_unset=True)
    for key, value in overrides.items():
        if value not in (None, ()):
            section, _, field = key.partition(".")
            if field:
                data[section] = {**data.get(section, {}), field: value}
            else:
                data[key] = value
    return build_config(data, config_path or "command line")


@click.group()
@click.version_option(package_name="dbt-lineage-bridge")
def cli() -> None:
    """Join dbt manifests with Airflow (Cosmos) metadata and emit one lineage graph into DataHub."""


@cli.command()
@click.option("--manifest", "manifests", multiple=True, help="manifest.json (or .gz, or a glob); repeatable")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="YAML configuration file")
@click.option("--env", help="DataHub environment of the URNs (default PROD)")
@click.option("--platform-instance", help="the warehouse's platform instance in DataHub")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def plan(
    manifests: tuple[str, ...],
    config_path: str | None,
    env: str | None,
    platform_instance: str | None,
    output_format: str,
) -> None:
    """Show what would be emitted, changing nothing."""
    from bridge.plan import plan_as_json, plan_as_text, plan_project
    from bridge.read.dbt.manifest import read_manifest

    config = _config(
        config_path, {"dbt.manifests": list(manifests), "env": env, "platform_instance": platform_instance}
    )
    if not config.dbt.manifests:
        raise ConfigError("no dbt manifest given: pass --manifest PATH or set dbt.manifests in --config.")
    projects = [read_manifest(path) for path in expand_paths(config.dbt.manifests, "manifest")]
    plans = [plan_project(project, config) for project in projects]
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    if output_format == "json":
        click.echo(orjson.dumps(plan_as_json(plans), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(plan_as_text(plans), nl=False)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: runs the CLI, turning every BridgeError into one line on stderr and exit code 2."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except BridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)
