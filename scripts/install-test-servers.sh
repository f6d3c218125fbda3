#!/usr/bin/env bash
# Installs the real servers the oneup-client integration tests start on 127.0.0.1:
#   - SEKMET FHIR R4 server (PyPI sekmet-fhir==0.1.1) into ./.venv
#   - oauth2-mock-server (npm 9.3.0) into ./.test-servers
#   - oidc-provider (npm 9.13.3, the SMART Backend Services server: private_key_jwt) into ./.test-servers
# and DuckDB (PyPI duckdb==1.4.4) into ./.venv, which the fhir-sql tests use to read back the Parquet they write.
# Idempotent: when the pinned versions are already installed it only checks them and exits (well under a second).
# Needs python3 (3.11+, with venv) and node + npm; only the PyPI and npm registries are contacted.
set -euo pipefail

SEKMET_VERSION="0.1.1"
OAUTH2_MOCK_VERSION="9.3.0"
OIDC_PROVIDER_VERSION="9.13.3"
DUCKDB_VERSION="1.4.4"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
servers="$root/.test-servers"

say() { printf 'install-test-servers: %s\n' "$*"; }

# ---- SEKMET (FHIR server) ------------------------------------------------------------------------------------------
sekmet_installed() {
  [ -x "$venv/bin/python" ] || return 1
  local v
  v="$("$venv/bin/python" - <<'PY' 2>/dev/null
from importlib.metadata import version
print(version("sekmet-fhir"))
PY
)" || return 1
  [ "$v" = "$SEKMET_VERSION" ]
}

if sekmet_installed; then
  say "sekmet-fhir $SEKMET_VERSION already in $venv"
else
  command -v python3 >/dev/null || { say "python3 is required"; exit 1; }
  if [ ! -x "$venv/bin/python" ]; then
    say "creating virtualenv $venv"
    python3 -m venv "$venv"
  fi
  say "installing sekmet-fhir==$SEKMET_VERSION into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "sekmet-fhir==$SEKMET_VERSION"
  sekmet_installed || { say "sekmet-fhir $SEKMET_VERSION did not install"; exit 1; }
fi

# ---- DuckDB (reads back the Parquet of fhir-sql's tests) -----------------------------------------------------------
duckdb_installed() {
  local v
  v="$("$venv/bin/python" - <<'PY' 2>/dev/null
from importlib.metadata import version
print(version("duckdb"))
PY
)" || return 1
  [ "$v" = "$DUCKDB_VERSION" ]
}

if duckdb_installed; then
  say "duckdb $DUCKDB_VERSION already in $venv"
else
  say "installing duckdb==$DUCKDB_VERSION into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
  duckdb_installed || { say "duckdb $DUCKDB_VERSION did not install"; exit 1; }
fi

# ---- npm packages in .test-servers --------------------------------------------------------------------------------
npm_installed() { # NAME VERSION
  local pj="$servers/node_modules/$1/package.json"
  [ -f "$pj" ] || return 1
  grep -q "\"version\": \"$2\"" "$pj"
}

npm_package() { # NAME VERSION
  if npm_installed "$1" "$2"; then
    say "$1 $2 already in $servers"
    return
  fi
  command -v npm >/dev/null || { say "node and npm are required"; exit 1; }
  mkdir -p "$servers"
  [ -f "$servers/package.json" ] || printf '{ "name": "oneup-client-test-servers", "private": true }\n' >"$servers/package.json"
  say "installing $1@$2 into $servers"
  npm install --prefix "$servers" --no-audit --no-fund --loglevel=error --save-exact "$1@$2"
  npm_installed "$1" "$2" || { say "$1 $2 did not install"; exit 1; }
}

# oauth2-mock-server (OAuth2 authorization server). It declares node ^22.12; its code runs on the node 20 these
# machines ship, so the engine check is left as a warning.
npm_package oauth2-mock-server "$OAUTH2_MOCK_VERSION"
# oidc-provider (SMART Backend Services: client credentials with private_key_jwt). It asks for node 22 LTS and only
# warns on node 20; the client credentials grant and private_key_jwt work there.
npm_package oidc-provider "$OIDC_PROVIDER_VERSION"

say "ready"
