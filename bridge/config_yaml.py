"""The configuration as a YAML file (a bare one, or a DataHub recipe whose `source.config` holds it).

`${VAR}` and `${VAR:-default}` are substituted, as DataHub recipes allow, into the parsed values: a value
holding `"`, `#`, `:` or a newline stays one value and cannot change the document's structure. The
environment is passed in by the caller (the CLI passes `os.environ`), never read here. No error quotes a
value: a YAML error names the line and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.config import BridgeConfig, build_config
from bridge.errors import ConfigError

if TYPE_CHECKING:
    import yaml

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str, environ: Mapping[str, str], source: str) -> str:
    """Replace `${VAR}` and `${VAR:-default}` in one value; a missing variable without default is a ConfigError."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{source}: environment variable {name} is not set. Set it, or write ${{{name}:-default}}.")

    return _ENV_REF.sub(substitute, text)


def expand_env_values(data: Any, environ: Mapping[str, str], source: str) -> Any:
    """`expand_env` applied to every text value of a parsed document (keys are left as written)."""
    if isinstance(data, str):
        return expand_env(data, environ, source)
    if isinstance(data, dict):
        return {key: expand_env_values(value, environ, source) for key, value in data.items()}
    if isinstance(data, list):
        return [expand_env_values(value, environ, source) for value in data]
    return data


def load_config(path: str | Path, environ: Mapping[str, str]) -> BridgeConfig:
    """Read a YAML configuration file (a bare one, or a recipe whose `source.config` holds it)."""
    return build_config(load_config_data(path, environ), str(path))


def load_config_data(path: str | Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings of a YAML file as data (variables substituted), not yet validated."""
    import yaml  # PyYAML only when a file is read: a sync given by flags alone does not load it

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the configuration file is not UTF-8 text.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror}).") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML{yaml_error_position(exc)}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level.")
    if isinstance(data.get("source"), dict):
        data = settings_of_recipe(data, str(path))
    try:
        return dict(expand_env_values(data, environ, str(path)))
    except RecursionError:
        raise ConfigError(f"{path}: a YAML alias refers to itself (&name ... *name inside it).") from None


def settings_of_recipe(recipe: dict[str, Any], where: str) -> dict[str, Any]:
    """A DataHub recipe's `source.config`, with the recipe's `sink:` as the bridge's sink (when the source's
    settings name none), so `bridge sync --config recipe.yml` sends where `datahub ingest` would. What only
    DataHub's pipeline does (transformers, other sources' types) is named in a warning, not dropped silently."""
    source = recipe["source"]
    data = source.get("config") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: source.config must be a mapping of settings.")
    data = dict(data)
    warnings = list(data.get("warnings", ()))
    if source.get("type") not in (None, "bridge"):
        warnings.append(f"{where}: source type {source.get('type')!r} read as the bridge's settings (type: bridge)")
    if recipe.get("transformers"):
        warnings.append(f"{where}: transformers run under `datahub ingest` only; `bridge sync` emits without them")
    if isinstance(recipe.get("sink"), dict) and "sink" in data:
        warnings.append(f"{where}: source.config.sink is used by `bridge sync`, the recipe's sink: block by "
                        "`datahub ingest`; keep one of them")  # fmt: skip
    if isinstance(recipe.get("sink"), dict) and "sink" not in data:
        data["sink"] = recipe_sink(recipe["sink"], where)
    return data | ({"warnings": tuple(warnings)} if warnings else {})


# A DataHub recipe's sink settings -> the bridge's sink fields, by sink type.
_RECIPE_SINK_FIELDS: dict[str, dict[str, str]] = {
    "file": {"filename": "path"},
    "datahub-rest": {"server": "server", "token": "token", "timeout_sec": "timeout", "retry_max_times": "max_retries"},
    "datahub-kafka": {"connection.bootstrap": "bootstrap", "connection.schema_registry_url": "schema_registry_url"},
    "datahub-lite": {"type": "", "config.file": "path"},
}


def recipe_sink(sink: dict[str, Any], where: str) -> dict[str, Any]:
    kind = sink.get("type")
    if kind not in _RECIPE_SINK_FIELDS:
        known = ", ".join(_RECIPE_SINK_FIELDS)
        raise ConfigError(f"{where}: sink type {kind!r} is not one `bridge sync` writes ({known}); run the recipe "
                          "with `datahub ingest`, which has every DataHub sink")  # fmt: skip
    fields = _RECIPE_SINK_FIELDS[kind]
    given = _flatten(sink.get("config") or {})
    unknown = sorted(key for key in given if key not in fields)
    if unknown:
        raise ConfigError(f"{where}: sink.config of {kind}: {', '.join(unknown)} not supported by `bridge sync` "
                          f"(it reads {', '.join(k for k, v in fields.items() if v)}); run the recipe with "
                          "`datahub ingest` for those")  # fmt: skip
    if kind == "datahub-lite" and "type" in given and "config.file" in given:
        engine = "duckdb" if str(given.get("config.file", "")).endswith(".duckdb") else "sqlite"
        if given["type"] != engine:
            raise ConfigError(f"{where}: sink.config of datahub-lite: `bridge sync` picks the engine by the file's "
                              "name (*.duckdb: duckdb, else sqlite); name the file to match its type")  # fmt: skip
    return {"type": kind} | {fields[key]: value for key, value in given.items() if fields[key]}


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def yaml_error_position(exc: yaml.YAMLError) -> str:
    """` at line 3, column 7 (mapping values are not allowed here)`: where, and what, but never the text there
    (a value on that line may be a secret, so anything the parser quotes is left out)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or ""
    problem = re.sub(r"'[^']*'|\"[^\"]*\"", "…", str(problem)).strip()
    return f"{where} ({problem})" if problem else where
