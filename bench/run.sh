#!/usr/bin/env bash
# Runs the benchmarks side by side and prints benchstat tables whose ratios
# are against a baseline measured in the same run. See BENCHMARKS.md.
#
#   bench/run.sh              # -count 6 of everything quick
#   COUNT=10 bench/run.sh     # more samples
#   BENCH_WRITER=sink bench/run.sh   # no-op ResponseWriter: stricter ratios
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-6}
export LOOPBACK_PHASE=${LOOPBACK_PHASE:-5000} # requests a side per phase of BenchmarkLoopback
out=results
mkdir -p "$out"
if ! command -v benchstat >/dev/null 2>&1; then
	go install golang.org/x/perf/cmd/benchstat@latest
	export PATH="$(go env GOPATH)/bin:$PATH"
fi

run() { # name, -bench pattern, -benchtime
	echo "== $1 (go test -bench '$2' -benchtime $3 -count $count)" >&2
	go test -run '^$' -bench "$2" -benchtime "$3" -count "$count" . | tee "$out/$1.txt" >/dev/null
}

run protected 'BenchmarkProtected' 100000x
run transport 'BenchmarkTransport' 100000x
run login 'BenchmarkLogin$|BenchmarkLoginDefaultHash|BenchmarkPasswordCheck|BenchmarkRefresh|BenchmarkIssuePair' 200x
run tree 'BenchmarkCollectTree' 20x
run sessions 'BenchmarkSessionFirstRequest' 100000x
run paired 'BenchmarkPaired' 200000x
run loopback 'BenchmarkLoopback' 150000x

echo "## Protected request, every implementation (baseline: bare gin)"
benchstat -col /impl "$out/protected.txt"
echo
echo "## First-seen HS256 (baseline: the raw floor)"
benchstat -filter '/impl:(raw-floor-HS256 OR ginjwt-HS256-first OR ginjwt-HS256-registry-first OR golang-jwt-HS256 OR gin-jwt-v3-HS256)' -col /impl "$out/protected.txt"
echo
echo "## Registry check on vs off (baseline: off)"
benchstat -filter '/impl:(ginjwt-HS256-first OR ginjwt-HS256-registry-first)' -col /impl "$out/protected.txt"
benchstat -filter '/impl:(ginjwt-HS256-repeated OR ginjwt-HS256-registry-repeated)' -col /impl "$out/protected.txt"
echo
echo "## Cookie vs Bearer (baseline: Bearer)"
benchstat -col /transport "$out/transport.txt"
echo
echo "## Login and refresh"
benchstat "$out/login.txt"
echo
echo "## A new session's first request, registry on vs off (baseline: registry=none)"
benchstat -col /registry "$out/sessions.txt"
echo
echo "## Paired: cookie modes vs Bearer, repeated token vs bare gin (the ×base column)"
benchstat "$out/paired.txt"
echo
echo "## Loopback HTTP: protected/public throughput, cache hit rate"
benchstat "$out/loopback.txt"
echo
echo "## CollectTree, 10,000 tokens"
benchstat "$out/tree.txt"
