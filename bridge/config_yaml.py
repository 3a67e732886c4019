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
from typing import Any

import yaml

from bridge.config import BridgeConfig, build_config
from bridge.errors import ConfigError

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
        data = data["source"].get("config") or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: source.config must be a mapping of settings.")
    try:
        return dict(expand_env_values(data, environ, str(path)))
    except RecursionError:
        raise ConfigError(f"{path}: a YAML alias refers to itself (&name ... *name inside it).") from None


def yaml_error_position(exc: yaml.YAMLError) -> str:
    """` at line 3, column 7 (mapping values are not allowed here)`: where, and what, but never the text there
    (a value on that line may be a secret, so anything the parser quotes is left out)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or ""
    problem = re.sub(r"'[^']*'|\"[^\"]*\"", "…", str(problem)).strip()
    return f"{where} ({problem})" if problem else where
