#!/usr/bin/env bash
# Regenerate the committed dbt artifacts of the bundled example project.
#
#   artifacts/snowflake/manifest.json   dbt parse with the Snowflake profile (../profiles.example.yml);
#                                       needs no Snowflake connection.
#   artifacts/snowflake/bridge_export.txt  dbt run-operation bridge_export, same profile (the dbt package)
#   artifacts/postgres/manifest.json    dbt docs generate against the local PostgreSQL (profiles/)
#   artifacts/postgres/run_results.json dbt build (seeds, models, snapshot, tests) against it
#   artifacts/postgres/sources.json     dbt source freshness against it
#   artifacts/postgres/catalog.json     dbt docs generate against it
#
# The PostgreSQL build and docs run with the var bridge_failing_test, which enables one test that fails
# on purpose (README.md, "A failing test"): the build exits 1 for it, which is accepted once the results
# show that it is the only failure. The source freshness check finds a stale source on purpose (exit 1 too).
# The Snowflake parse runs without the var, as every other user of the project does.
#
# Needs: the project venv (../.venv, or DBT=/path/to/dbt) and a PostgreSQL reachable as user postgres
# without a password (BRIDGE_PG_HOST / BRIDGE_PG_PORT, default 127.0.0.1:5432). The database bridge_dbt
# is created when missing. Invocation ids, generation times and absolute paths are normalised by
# scripts/normalize_artifacts.py so that a re-run only changes what the project changed (and the run's
# own timings in run_results.json).
#
# Usage: dbt_project/regenerate.sh        (from anywhere)
set -euo pipefail

project_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "${project_dir}/.." && pwd)"
dbt="${DBT:-${repo_dir}/.venv/bin/dbt}"
python="${PYTHON:-$(dirname "${dbt}")/python}"
pg_host="${BRIDGE_PG_HOST:-127.0.0.1}"
pg_port="${BRIDGE_PG_PORT:-5432}"

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/finance-regenerate.XXXXXX")"
trap 'rm -rf "${work_dir}"' EXIT

export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export DBT_PARTIAL_PARSE=false

run_dbt() {
    local name="$1"
    shift
    echo "+ dbt $* (${name})" >&2
    (cd "${project_dir}" && "${dbt}" "$@" \
        --project-dir "${project_dir}" \
        --target-path "${work_dir}/${name}/target" \
        --log-path "${work_dir}/${name}/logs")
}

site_packages="$("${python}" -c 'import pathlib, dbt.include; print(pathlib.Path(dbt.include.__file__).parents[2])')"
normalize() {
    "${python}" "${project_dir}/scripts/normalize_artifacts.py" \
        --replace "${work_dir}=/tmp/finance-regenerate" \
        --replace "${repo_dir}=/repo" \
        --replace "${site_packages}=/site-packages" \
        "$@"
}

# dbt_packages/ is rebuilt from packages.yml (local packages only: works offline).
if [[ -f "${project_dir}/packages.yml" ]]; then
    (cd "${project_dir}" && "${dbt}" deps --project-dir "${project_dir}" --profiles-dir "${project_dir}/profiles" \
        --log-path "${work_dir}/deps/logs")
fi

# (a) Snowflake: parse only.
mkdir -p "${work_dir}/snowflake-profiles" "${project_dir}/artifacts/snowflake" "${project_dir}/artifacts/postgres"
cp "${repo_dir}/profiles.example.yml" "${work_dir}/snowflake-profiles/profiles.yml"
SECONDS=0
run_dbt snowflake parse --no-partial-parse --profiles-dir "${work_dir}/snowflake-profiles"
echo "snowflake parse took ${SECONDS}s"
cp "${work_dir}/snowflake/target/manifest.json" "${project_dir}/artifacts/snowflake/manifest.json"
# The same target's export by the dbt package (what `bridge sync --dbt-export` reads): one line.
run_dbt snowflake-export --quiet run-operation bridge_export --profiles-dir "${work_dir}/snowflake-profiles" \
    > "${project_dir}/artifacts/snowflake/bridge_export.txt"

# (b) PostgreSQL: build, check source freshness, then document.
failing_vars='{bridge_failing_test: true}'
# dbt exits 1 when a node fails (not 2, an error of dbt itself): the failures are checked afterwards.
run_dbt_failing() { run_dbt "$@" || [[ $? -eq 1 ]]; }

"${python}" - "${pg_host}" "${pg_port}" <<'PY'
import sys
import psycopg2

host, port = sys.argv[1], int(sys.argv[2])
connection = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
connection.autocommit = True
with connection.cursor() as cursor:
    cursor.execute("select 1 from pg_database where datname = 'bridge_dbt'")
    if cursor.fetchone() is None:
        cursor.execute("create database bridge_dbt")
        print("created database bridge_dbt")
connection.close()
PY
# The sources are the seeds' tables, which dbt cannot know: load the seeds before the build, as an
# EL tool would land the raw tables before dbt runs.
run_dbt seed seed --profiles-dir "${project_dir}/profiles"
SECONDS=0
run_dbt_failing build build --vars "${failing_vars}" --profiles-dir "${project_dir}/profiles"
echo "postgres build took ${SECONDS}s"
run_dbt_failing freshness source freshness --profiles-dir "${project_dir}/profiles"
"${python}" - "${work_dir}/build/target/run_results.json" "${work_dir}/freshness/target/sources.json" <<'PY'
import json
import sys

build, freshness = (json.load(open(path, encoding="utf-8"))["results"] for path in sys.argv[1:])
failing = "test.finance.assert_index_months_have_full_trading_days"
unexpected = [(r["unique_id"], r["status"]) for r in build
              if r["status"] not in ("success", "pass", "no-op") and (r["unique_id"], r["status"]) != (failing, "fail")]
if unexpected or (failing, "fail") not in [(r["unique_id"], r["status"]) for r in build]:
    sys.exit(f"the build should fail {failing} only; it gave {unexpected or 'no failure'}")
if not freshness or any(r["status"] == "runtime error" for r in freshness):
    sys.exit(f"dbt source freshness could not check every source: {freshness}")
PY
cp "${work_dir}/build/target/run_results.json" "${project_dir}/artifacts/postgres/run_results.json"
cp "${work_dir}/freshness/target/sources.json" "${project_dir}/artifacts/postgres/sources.json"
run_dbt docs docs generate --vars "${failing_vars}" --profiles-dir "${project_dir}/profiles"
cp "${work_dir}/docs/target/manifest.json" "${work_dir}/docs/target/catalog.json" "${project_dir}/artifacts/postgres/"

normalize "${project_dir}/artifacts/snowflake/manifest.json" \
    "${project_dir}/artifacts/postgres/manifest.json" \
    "${project_dir}/artifacts/postgres/run_results.json" \
    "${project_dir}/artifacts/postgres/sources.json" \
    "${project_dir}/artifacts/postgres/catalog.json"
echo "artifacts written to ${project_dir}/artifacts"
