#!/bin/sh
# tests/fuzz_seeds.sh: the fuzzers' committed seeds are what
# tests/fuzz/seeds.py writes from proto/vocab.h and docs/protocol.md §5 now:
# a new method, or a new argument, gets its seeds (run the script and
# commit them). TAP; run by prove (make test).

cd "$(dirname "$0")/.." || { echo "Bail out! cd failed"; exit 1; }
echo "1..2"
if out=$(python3 tests/fuzz/seeds.py --check 2>&1); then
	echo "ok 1 - tests/fuzz/corpus/*/seed-* are what seeds.py writes"
else
	echo "not ok 1 - tests/fuzz/corpus/*/seed-* are what seeds.py writes"
	echo "$out" | sed 's/^/# /'
	echo "# run: python3 tests/fuzz/seeds.py, and commit the corpus"
fi
# Every method of vocab.h has a valid request in both corpora.
missing=""
for m in $(awk '/^#define PROTO_METHODS/ { f = 1; next } f && /^$/ { exit } f' \
    proto/vocab.h | sed -n 's/.*X([A-Z_]*, "\([^"]*\)").*/\1/p'); do
	for h in decode dispatch; do
		[ -f "tests/fuzz/corpus/$h/seed-valid-$m" ] || missing="$missing $h/$m"
	done
done
if [ -z "$missing" ]; then
	echo "ok 2 - every method has a valid request in each corpus"
else
	echo "not ok 2 - every method has a valid request in each corpus"
	echo "# missing:$missing"
fi
