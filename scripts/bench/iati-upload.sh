#!/bin/bash
# The IATI upload through the API (BENCHMARKS.md, "IATI 2.03 import"), one round: a fresh SQLite
# database (`org load`, `demo --scale 1`), a project developer at headquarters (authority over
# every office) with an API token, `meridian serve`, and FILE posted with curl as it is
# (KIND=plain) or its gzip-compressed copy FILE.gz (KIND=gz; make it with `gzip -k FILE`).
#
#   FILE=/tmp/iati2bench/iati-derived-12500acts.xml scripts/bench/iati-upload.sh BIN plain
set -euo pipefail
BIN=$1; KIND=$2
FILE=${FILE:-/tmp/iati2bench/iati-derived-12500acts.xml}
DIR=${DIR:-$(dirname "$FILE")}
PORT=${PORT:-18080}
DB=$DIR/up-$KIND.db
rm -f "$DB"*
export MERIDIAN_DATABASE_URL=sqlite://$DB
"$BIN" org load >/dev/null && "$BIN" demo --scale 1 >/dev/null 2>&1
echo bench-upload-password | "$BIN" user add --unit DG-EO --role project_developer \
  --password-stdin upload@example.org >/dev/null
TOKEN=$("$BIN" user token upload@example.org | tail -1)
"$BIN" serve --addr 127.0.0.1:$PORT --documents-dir "$DIR/docs" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$DB"*' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.2; done
F=$FILE; [[ $KIND == gz ]] && F=$FILE.gz
curl -s -o "$DIR/up-$KIND.json" \
  -w "$KIND: %{size_upload} bytes sent, HTTP %{http_code}, %{time_total} s" \
  -H "Authorization: Bearer $TOKEN" -H "content-type: application/xml" --data-binary "@$F" \
  "http://127.0.0.1:$PORT/api/v1/iati/imports?default_unit=RO-NBO&file_name=$(basename "$F")"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(', created', r['created'], 'refused', len(r['refused']))" "$DIR/up-$KIND.json"
