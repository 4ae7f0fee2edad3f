// Package interop is the interoperability and failover harness of issue 6:
// real VRRP implementations run side by side on a throw-away Ethernet LAN of
// network namespaces (internal/linux/netnstest), a host namespace probes the
// virtual address continuously, tcpdump records the LAN, and tests drive
// failures and assert on what each side did.
//
// Plain `go test ./test/interop` runs the scenarios; they need root and the
// tools (`make deps` installs keepalived, frr and tcpdump) and skip without
// them, except under CI=true where that is a failure (internal/testenv).
// Tests run one after another (no t.Parallel) to keep timing noise low.
//
// # Building blocks
//
//   - Lab (NewLab): the LAN with N router namespaces (10.77.0.i/24, fd77::i/64
//     on eth0), a host namespace (10.77.0.100/24, fd77::100/64), a run
//     directory with every config, log and capture, and a tcpdump of the
//     bridge. Everything is removed when the test ends, also on failure and on
//     SIGINT/SIGTERM (netnstest.OnInterrupt); the run directory is kept when
//     the test fails (or GOVRRP_INTEROP_KEEP=1) and its path is printed.
//   - Peer: one VRRP implementation running in one router namespace. VR
//     describes a virtual router in implementation-neutral terms and each Peer
//     renders it into its own configuration.
//   - Failure drivers: Lab.Unplug/Plug (cable pull: the bridge port goes
//     down), Peer.Kill (SIGKILL), Peer.Stop (SIGTERM), Peer.SetPriority
//     (reconfigure while running), Lab.LinkDown/LinkUp (eth0 down inside the
//     router).
//   - Observation: Peer.State, Lab.WaitMaster/WaitState, Prober (longest
//     data-plane outage towards a VIP and which MAC answered), Capture.Adverts
//     (every advert on the wire, for "last master advert -> first backup
//     advert" gaps).
//   - When a test fails, the Lab prints what each side thought: every peer's
//     state per VR, its own status dump, the tail of its logs, the last
//     adverts in the capture and the prober's summary.
//
// # Adding govrrpd
//
// govrrpd is one more Peer. A Govrrp type holds the node, the VRs and a run
// directory, and:
//
//   - Start renders the VRs as the daemon's YAML (the format of
//     internal/config/testdata/full.yaml: control_socket: DIR/govrrpd.sock,
//     one routers: entry per VR with interface eth0, vrid, version, priority,
//     advert_interval, preempt, vmac, unicast_peers, auth, addresses), writes
//     it to DIR/govrrpd.yaml and runs `govrrpd -c DIR/govrrpd.yaml` with
//     startProc (ip netns exec, output to DIR/govrrpd.log, process group,
//     killed in t.Cleanup and on interrupt). The test binary builds govrrpd
//     once (go build -o into a TestMain temp dir) so the run uses the tree
//     under test.
//   - State runs `govrrp status --json -s DIR/govrrpd.sock` (no ip netns exec
//     needed: the socket is a file) and maps each router's state for (vrid,
//     family); Unknown with an error when the daemon is not running.
//   - Stop sends SIGTERM and waits, Kill sends SIGKILL to the process group,
//     SetPriority rewrites the YAML and sends SIGHUP (or uses the API once it
//     has a write call), Logs returns govrrpd.log, Dump the status JSON.
//   - Source returns the advert source: eth0's IPv4 address, or for IPv6 the
//     link-local of eth0 (or of the VMAC macvlan when vmac is on).
//
// The scenarios only use Peer methods after construction, so running one
// with govrrpd means calling NewGovrrp(t, node, l.Dir, vrs...) where it now
// calls NewKeepalived or NewFRR; WaitMaster, the prober and the capture
// checks apply unchanged.
package interop
