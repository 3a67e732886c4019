"""Every error the bridge raises, in one tree.

    BridgeError                      root: catch this to catch everything the bridge raises on purpose
    +-- ConfigError                  a setting is missing, malformed or contradictory
    +-- SourceError                  an input could not be read
    |   +-- ArtifactError            a dbt artifact (manifest, run_results, catalog) is missing or corrupt
    |   |   +-- UnsupportedSchemaVersionError   the artifact's schema version is outside the supported range
    |   +-- DbtInvocationError       dbt, run for `--dbt-project-dir`, failed (no profile, parse error, no package)
    |   +-- AirflowDbError           the Airflow metadata database (a wrong database name, an unreadable file)
    |   |   +-- AirflowDbUnreachableError  [3] host/port did not answer
    |   |   +-- AirflowDbQueryError        [3] a statement failed while reading (connection lost, ...)
    |   |   |   +-- AirflowDbTimeoutError  [3] a statement or lock wait ran past its configured timeout
    |   |   +-- AirflowDbAuthError         the server refused the credentials
    |   |   +-- AirflowSchemaError         not an Airflow database, or a schema version we do not read
    |   +-- AirflowApiError          the Airflow REST API (an answer that is not what the API gives)
    |       +-- AirflowApiAuthError        401/403 that survives a token refresh
    |       +-- AirflowApiNotFoundError    404/405: no such endpoint or object
    |       +-- AirflowApiUnavailableError [3] retries ran out (429/5xx/timeouts, a body cut short)
    +-- StateError                   the state file of incremental syncs: unreadable, corrupt, another setup's
    |   +-- FailSafeError            a sync would remove more than `state.fail_safe_threshold`: none removed
    +-- SinkError                    [3] emitting failed; `transient` says whether a retry can help
        +-- SinkTransientError
        +-- SinkTerminalError

`exit_code` is what the command line exits with: 2 (bad input or configuration: fix it, then run again) by
default, 3 where marked (a source or sink failed after its retries: the input may be fine, the service was not).
Every message says what failed, where (file, DAG, task, URI, host) and what to do about it, and carries no
secret. Problems that concern one DAG, task or node are not raised: they are collected in the run report
(`bridge.model.report`).
"""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_FAILED = 3


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(BridgeError):
    """A setting is missing, malformed or contradictory."""


class SourceError(BridgeError):
    """An input (dbt artifact, Airflow DB, Airflow API) could not be read."""


class ArtifactError(SourceError):
    """A dbt artifact is missing, unreadable or not what it claims to be."""

    def __init__(self, path: str, problem: str, hint: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}. {hint}")


class UnsupportedSchemaVersionError(ArtifactError):
    """The artifact's `dbt_schema_version` is outside the range the bridge reads."""

    def __init__(self, path: str, kind: str, found: str, supported: str) -> None:
        self.found = found
        super().__init__(
            path,
            f"{kind} schema version {found} is not supported (supported: {supported})",
            "Re-create it with a dbt version that writes a supported schema.",
        )


class DbtInvocationError(SourceError):
    """dbt, run by the bridge in a project (`--dbt-project-dir`), failed or printed no export."""

    def __init__(self, project_dir: str, problem: str, hint: str) -> None:
        self.project_dir = project_dir
        super().__init__(f"dbt project {project_dir}: {problem}. To fix: {hint}.")


class AirflowDbError(SourceError):
    """The Airflow metadata database could not be read."""


class AirflowDbUnreachableError(AirflowDbError):
    """The database server did not answer."""

    exit_code = EXIT_FAILED


class AirflowDbQueryError(AirflowDbError):
    """A statement failed while reading (the server went away, the transaction was cancelled)."""

    exit_code = EXIT_FAILED


class AirflowDbTimeoutError(AirflowDbQueryError):
    """A statement, or its wait for a lock, ran past `airflow_db.statement_timeout` / `lock_timeout`."""


class AirflowDbAuthError(AirflowDbError):
    """The database server refused the credentials."""


class AirflowSchemaError(AirflowDbError):
    """Not an Airflow metadata database, or one whose schema version the bridge does not read."""


class AirflowApiError(SourceError):
    """The Airflow REST API could not be read."""


class AirflowApiAuthError(AirflowApiError):
    """The API refused the credentials, even after a token refresh."""


class AirflowApiNotFoundError(AirflowApiError):
    """The API has no such endpoint or object (HTTP 404 or 405)."""


class AirflowApiUnavailableError(AirflowApiError):
    """The API kept failing (429, 5xx, timeouts, bodies cut short) until the retries ran out."""

    exit_code = EXIT_FAILED


class StateError(BridgeError):
    """The state file (`--state`) cannot be used: unreadable, corrupt, or written for another configuration."""

    def __init__(self, path: str, problem: str, hint: str) -> None:
        self.path = path
        super().__init__(f"state file {path}: {problem}. {hint}")


class FailSafeError(StateError):
    """A sync would soft-delete more than the fail-safe share of what earlier syncs emitted: it removed
    nothing, and its state file still holds those entities."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        BridgeError.__init__(self, f"state file {path}: {message}")


class SinkError(BridgeError):
    """Emitting to a sink failed."""

    transient = False
    exit_code = EXIT_FAILED


class SinkTransientError(SinkError):
    """A retry may succeed (server down, timeout, throttled)."""

    transient = True


class SinkTerminalError(SinkError):
    """A retry will not help (rejected payload, bad credentials, bad path)."""
