// Package interop is the interoperability and failover harness of issue 6:
// real VRRP implementations run side by side on a throw-away Ethernet LAN of
// network namespaces (internal/lab), a host namespace probes the
// virtual address continuously, tcpdump records the LAN, and tests drive
// failures and assert on what each side did.
//
// Plain `go test ./test/interop` runs the scenarios; they need root and the
// tools (`make deps` installs keepalived, frr and tcpdump) and skip without
// them, except under CI=true where that is a failure (internal/testenv).
// Tests run one after another to keep timing noise low; only
// TestImportedKeepalivedDefaults runs its pairs side by side, at 1 s adverts.
//
// # Building blocks
//
//   - Lab (NewLab): the LAN with N router namespaces (10.77.0.i/24, fd77::i/64
//     on eth0), a host namespace (10.77.0.100/24, fd77::100/64), a run
//     directory with every config, log and capture, and a tcpdump of the
//     bridge. Everything is removed when the test ends, also on failure and on
//     SIGINT/SIGTERM (lab.OnInterrupt); the run directory is kept when
//     the test fails (or GOVRRP_INTEROP_KEEP=1) and its path is printed.
//   - Peer: one VRRP implementation running in one router namespace. VR
//     describes a virtual router in implementation-neutral terms and each Peer
//     renders it into its own configuration, unless the test brings its own:
//     a keepalived.conf run unchanged (Keepalived.UseConfig; states then
//     come from keepalived's log) or an import of one (Govrrp.UseImported),
//     the VRs only describing it, with the instances' names in VR.Name.
//   - Failure drivers: Lab.Unplug/Plug (cable pull: the bridge port goes
//     down), Peer.Kill (SIGKILL), Peer.Stop (SIGTERM), Peer.SetPriority
//     (reconfigure while running), Lab.LinkDown/LinkUp (eth0 down inside the
//     router).
//   - Observation: Peer.State, Lab.WaitMaster/WaitState, Lab.Probe (the
//     host pinging a VIP with internal/lab/probe: the data-plane outage by
//     its one definition, and which MAC answered), Capture.Adverts
//     (every advert on the wire, for "last master advert -> first backup
//     advert" gaps).
//   - When a test fails, the Lab prints what each side thought: every peer's
//     state per VR, its own status dump, the tail of its logs, the last
//     adverts in the capture and the prober's summary.
//
// # govrrpd
//
// govrrpd is one more Peer (govrrp.go). NewGovrrp(t, node, l.Dir, vrs...)
// renders the VRs as the daemon's YAML (DIR/govrrpd.yaml: one routers:
// entry vr<VRID>-<family> per VR on eth0 with version, priority,
// advert_interval, preempt, preempt_delay, accept: true, checksum,
// vmac, unicast_peers, unicast_source, auth, addresses; IPv6 lists the virtual link-local
// fe80::<VRID> first; log level debug) and runs the govrrpd that TestMain
// builds once with -race. An owner (priority 255) gets its VIPs as real
// addresses of eth0 before the start. State, Dump and Detail read the
// control API (govrrp/internal/api) on DIR/govrrpd.sock; Stop sends SIGTERM
// and fails the test unless govrrpd exits 0; SetPriority rewrites the YAML,
// sends SIGHUP and waits until the API reports the new effective priority;
// Source is eth0's IPv4 address, or the own link-local of eth0 or of the
// VMAC macvlan (govrrpd sends IPv6 adverts from the macvlan's random one).
// A data race or panic in govrrpd.log fails the test.
//
// # Scenarios
//
//   - govrrp_test.go: govrrp only: election with two and three routers in
//     every flavour (v2, v2 PASS, v3 IPv4/IPv6, VMAC, unicast), every
//     failure kind, load sharing over several VRIDs, preempt off and preempt
//     delay, the priority-255 owner, and the 10 ms data-plane outage.
//   - mixed_test.go: govrrp with keepalived and with FRR, both directions.
//   - threeway_test.go: govrrp + keepalived + FRR on one VRID; the VRRPv3
//     IPv4 checksum forms.
//   - interop_test.go: keepalived and FRR among themselves.
//   - import_test.go, importpair_test.go: `govrrp import keepalived` against
//     keepalived itself: its -d dump, what it installs, its hooks, and pairs
//     of unchanged keepalived.conf files at keepalived's defaults
//     (testdata/keepalived), keepalived on one router and the import on
//     the other.
//
// checkClean (checks_test.go) is the "nobody complains about anybody's
// adverts" assertion: govrrp's discard counters empty and its receive
// warnings limited to what spec §12 expects, no keepalived 2.2.7 line about
// a refused or odd advert, no FRR vrrpd protocol-debug line about one.
package interop
