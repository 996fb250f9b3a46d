#!/bin/bash
# Instructions of a new IATI import, counted by callgrind (deterministic, unlike times on a
# shared machine): a fresh SQLite database (`org load`, `demo --scale 1`), then the import of
# FILE under `valgrind --tool=callgrind`. BENCHMARKS.md uses the derived file's first 1,250
# activities (10 MB; ~25 s under callgrind):
#
#   python3 -c 'import sys; f=open(sys.argv[1],"rb").read(); p=0
#   for _ in range(1250): p=f.index(b"</iati-activity>",p)+16
#   open(sys.argv[2],"wb").write(f[:p]+b"\n</iati-activities>\n")' BIG.xml /tmp/iati2bench/iati-1250.xml
#   FILE=/tmp/iati2bench/iati-1250.xml scripts/bench/iati-import-callgrind.sh BIN NAME
set -euo pipefail
BIN=$1; NAME=$2
FILE=${FILE:-/tmp/iati2bench/iati-1250.xml}
DIR=${DIR:-$(dirname "$FILE")}
DB=$DIR/cg-$NAME.db
rm -f "$DB"* "$DIR/callgrind.out.$NAME"
export MERIDIAN_DATABASE_URL=sqlite://$DB
"$BIN" org load >/dev/null && "$BIN" demo --scale 1 >/dev/null 2>&1
valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.out.$NAME" \
  "$BIN" import iati "$FILE" --default-unit RO-NBO >"$DIR/cg-$NAME.log" 2>&1
echo "$NAME: $(grep -E "Collected" "$DIR/cg-$NAME.log" | sed 's/.*Collected : //') instructions"
rm -f "$DB"*
