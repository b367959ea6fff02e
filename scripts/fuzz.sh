#!/usr/bin/env bash
# Runs every fuzz target of the repository (SPEC §13.2), one `go test -fuzz`
# per target, for SECONDS each (default 3: the test command's brief pass).
#
#   scripts/fuzz.sh                 every target, 3 s each
#   scripts/fuzz.sh 300             every target, 5 minutes each (a longer hunt)
#   scripts/fuzz.sh 60 FuzzParseCSV the targets whose name matches a pattern
#
# Targets are found by their `func FuzzXxx(f *testing.F)` in *_test.go, so a
# new one is run without being listed here. Each committed corpus
# (testdata/fuzz/FuzzXxx/) is replayed first; inputs found meanwhile go to
# Go's fuzz cache. A failing input is written to the package's
# testdata/fuzz/FuzzXxx/ by go test: commit it with the fix, as a test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-3}
pattern=${2:-.}
case $seconds in '' | *[!0-9]* | 0*) echo "fuzz.sh: SECONDS must be a whole number from 1, not '$seconds'" >&2; exit 2 ;; esac

# "dir name" per target, in a stable order.
mapfile -t targets < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
	while read -r file; do
		sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' "$file" | while read -r name; do
			echo "$(dirname "$file") $name"
		done
	done | grep -E " .*${pattern}" | sort)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz target matches '$pattern'" >&2
	exit 2
fi

failed=()
start=$SECONDS
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	echo "fuzz.sh: $name ($dir, ${seconds}s)"
	log="${TMPDIR:-/tmp}/fuzz-$name.log"
	for attempt in 1 2; do
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "${seconds}s" "$dir" >"$log" 2>&1; then
			break
		fi
		# Go 1.26's fuzz coordinator can report its own -fuzztime deadline
		# as a failure ("context deadline exceeded", no input written: Go
		# issue 75804, fixed in Go 1.27). That one outcome is run again,
		# once; anything else, or the same twice, is a failure.
		if [ "$attempt" = 1 ] && grep -q '^    context deadline exceeded$' "$log" &&
			! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
			echo "fuzz.sh: $name: the engine's own deadline report (Go issue 75804); once more"
			continue
		fi
		cat "$log"
		failed+=("$name")
		break
	done
done
echo "fuzz.sh: ${#targets[@]} targets in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: FAILED: ${failed[*]} (the failing inputs are under the packages' testdata/fuzz/)" >&2
	exit 1
fi
