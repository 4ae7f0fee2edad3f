// Package bench is the network side of `make bench`: govrrpd and keepalived
// in turn on throw-away namespace LANs (test/interop's Lab), measuring
// failover latency (control plane from a capture of the bridge, data plane
// from a 1 ms ICMP prober), and CPU, memory, adverts on the wire and
// spurious transitions with many virtual routers. It writes
// docs/BENCHMARKS.md and docs/benchmarks.json.
//
// It is a test that runs only when asked, so `go test ./...` (make test)
// skips it:
//
//	go test -count=1 -timeout 60m -v -run '^TestBenchmarkReport$' ./test/bench -bench-report [-quick]
//
// It needs root, keepalived and tcpdump. Numbers never fail it: it reports
// them beside the targets. Everything it creates (namespaces, processes) is
// removed at the end, on failure and on SIGINT/SIGTERM (netnstest).
package bench
