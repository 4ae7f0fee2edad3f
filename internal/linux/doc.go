// Package linux is govrrp's Linux data plane: what puts the protocol on the
// real kernel. Each piece sits behind a small type the daemon drives:
//
//   - Conn: one raw IP-protocol-112 socket per (interface, family), shared by
//     every virtual router there and owned by the daemon's event loop for
//     that interface (spec §2). The loop sleeps in a Poller (epoll + timerfd
//     deadline + eventfd Wake) on Conn.Fds, reads with Conn.ReadBatch
//     (recvmmsg, the real TTL/hop limit, kernel arrival timestamps), runs the
//     codec's receive checks and splits the adverts by VRID itself (spec §7),
//     and writes a step's adverts with Conn.Queue and one Conn.Flush
//     (sendmmsg). Conn.SetFilter installs kernel filters: only relevant
//     adverts reach the main socket's big buffer, the rest a small "reject"
//     socket, still read and counted. The Conn has no goroutine, nothing
//     blocks, and an advert costs no allocation in steady state, sent or
//     received: BenchmarkAdvertRoundTrip, TestSendPathAllocs,
//     TestReceivePathAllocs, TestBatchAllocs and TestPollerAllocs hold that.
//   - Addresses: installs and removes virtual addresses with netlink (IPv6
//     without DAD) and flushes those a killed instance left behind.
//   - Announcer: gratuitous ARP / unsolicited NA bursts (spec §10), with
//     repeat, delay, periodic refresh, cancellable.
//   - VMAC: the per-virtual-router macvlan with 00:00:5e:00:0{1,2}:VRID (§9);
//     ARPGuard keeps its parent from answering ARP for the VIPs.
//   - AcceptGuard: Accept_Mode false, an nftables table dropping packets
//     addressed to a non-owner Master's VIPs (ARP, ND and VRRP pass).
//   - LinkWatcher: netlink subscription turning link and address changes into
//     events (carrier, up/down, primary address, gone/back); a subscription
//     the kernel or the library ends is re-opened with backoff.
//
// Nothing here knows the state machine; the daemon wires them together.
// Every type takes an optional *netlink.Handle so tests can run it inside a
// network namespace (see internal/lab); sockets are opened in the namespace of
// the calling thread.
package linux
