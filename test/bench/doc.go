// Package bench is the network side of `make bench`: govrrpd, keepalived
// and FRR in turn on throw-away namespace LANs (test/interop's Lab), measuring
// failover latency (control plane from a capture of the bridge, data plane
// from a 1 ms ICMP prober), and CPU, memory, adverts on the wire and
// spurious transitions with many virtual routers. It writes
// docs/BENCHMARKS.md and docs/benchmarks.json.
//
// It is a test that runs only when asked, so `go test ./...` (make test)
// skips it:
//
//	go test -count=1 -timeout 150m -v -run '^TestBenchmarkReport$' ./test/bench -bench-report [-quick]
//
// Parts (-cases): failover (VR 51, cable pull and SIGTERM at 10 ms and 1 s),
// loaded (the 10 ms failovers while 1004 other VRs run at 100 ms on four
// interfaces), scale (50x10ms, 255x1s, 1000x100ms over 4 interfaces for
// 5 min, 4080x1s over 16 for 10 min; -scale picks, -scale-runs and
// -long-runs set the runs), kamodes (keepalived at 50x10ms started plainly
// and the way the bench used to, -l), flood (150k pps for 30 s, both
// daemons), and BFD (issue 16, at 10 ms × 3): bfd (detection of a killed
// peer, both ways, against FRR bfdd and keepalived's bfd_instance), bfdfalse
// (false Downs between two govrrpd, idle and beside two CPU hogs, two FRR
// bfdd beside them and a probe of the machine's stalls; window
// -bfd-false-for), bfdcpu (1 and 10 sessions, govrrpd's CPU and heap
// allocations per packet beside bfdd's; -bfd-cpu-window), bfdfailover
// (cable pull at 1 s adverts with Master–Backup BFD beside keepalived and
// FRR's vrrpd at 10 ms adverts; "not available" when govrrpd has no
// routers[].bfd_master). keepalived runs as an operator runs it
// (`keepalived -n -P`) and both its processes are measured. -quick runs
// every part once, briefly; -govrrpd measures a prebuilt binary; -profile DIR runs govrrpd under
// -cpuprofile and links the profiles from missed targets.
//
// It needs root, keepalived, FRR (zebra, bfdd, vrrpd, vtysh) and tcpdump. Numbers never fail it: it reports
// them beside the targets. Everything it creates (namespaces, processes) is
// removed at the end, on failure and on SIGINT/SIGTERM (internal/lab).
package bench
