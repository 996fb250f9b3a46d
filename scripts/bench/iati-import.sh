#!/bin/bash
# The IATI import benchmark of BENCHMARKS.md ("Import: …" sections), one round for one binary:
# a fresh SQLite database (`org load`, `demo --scale 1`), a new import of FILE, the same again
# (unchanged), an export of every project; wall and CPU times, peak RSS, database growth.
#
#   FILE=/tmp/iati2bench/iati-derived-12500acts.xml scripts/bench/iati-import.sh BIN NAME
#
# FILE comes from ../shared/data/iati/samples/derived-perf/make_derived.py (needs lxml). Run
# two binaries in turn, several rounds, and compare medians: single runs on a shared machine
# spread widely.
set -euo pipefail
BIN=$1; NAME=$2
FILE=${FILE:-/tmp/iati2bench/iati-derived-12500acts.xml}
DIR=${DIR:-$(dirname "$FILE")}
DB=$DIR/bench-$NAME.db
rm -f "$DB"*
export MERIDIAN_DATABASE_URL=sqlite://$DB
"$BIN" org load >/dev/null && "$BIN" demo --scale 1 >/dev/null 2>&1
S0=$(stat -c %s "$DB")
L=$(cut -d' ' -f1 /proc/loadavg)
N=$(/usr/bin/time -f "%e s wall %U+%S s CPU %M KB" "$BIN" import iati "$FILE" --default-unit RO-NBO 2>&1 \
  | grep -E "activities:|wall" | sed 's/.*refused; //' | tr '\n' ' ')
S1=$(stat -c %s "$DB")
U=$(/usr/bin/time -f "%e s wall" "$BIN" import iati "$FILE" --default-unit RO-NBO 2>&1 | grep -E "wall" | tr '\n' ' ')
E=$(/usr/bin/time -f "%e s wall %M KB" "$BIN" export iati -o "$DIR/bench-$NAME.xml" 2>&1 | grep wall)
echo "$NAME load $L | new: $N| growth $(( (S1-S0)/1000000 )) MB | unchanged: $U | export: $E $(( $(stat -c %s "$DIR/bench-$NAME.xml")/1000000 )) MB"
rm -f "$DB"* "$DIR/bench-$NAME.xml"
