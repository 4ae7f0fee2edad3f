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
// Parts (-cases): failover (VR 51, cable pull and SIGTERM at 10 ms and 1 s),
// loaded (the 10 ms failovers while 1004 other VRs run at 100 ms on four
// interfaces), scale (50x10ms, 255x1s, 1000x100ms over 4 interfaces for
// 5 min, 4080x1s over 16 for 10 min; -scale picks, -scale-runs and
// -long-runs set the runs), kamodes (keepalived at 50x10ms started plainly
// and the way the bench used to, -l), flood (150k pps for 30 s, both
// daemons). keepalived runs as an operator runs it (`keepalived -n -P`) and
// both its processes are measured. -quick runs every part once, briefly;
// -govrrpd measures a prebuilt binary; -profile DIR runs govrrpd under
// -cpuprofile and links the profiles from missed targets.
//
// It needs root, keepalived and tcpdump. Numbers never fail it: it reports
// them beside the targets. Everything it creates (namespaces, processes) is
// removed at the end, on failure and on SIGINT/SIGTERM (internal/lab).
package bench
