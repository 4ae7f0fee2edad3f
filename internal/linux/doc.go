// Package linux is govrrp's Linux data plane: what puts the protocol on the
// real kernel. Each piece sits behind a small type the daemon drives:
//
//   - Conn: one raw IP-protocol-112 socket per (interface, family), shared by
//     every virtual router there; Demux splits its traffic by VRID and runs
//     the codec's receive checks with the real TTL/hop limit (spec §2, §7).
//     An advert costs no allocation in steady state, sent (hand-built
//     sendmsg) or received (hand-built recvmsg): BenchmarkAdvertRoundTrip,
//     TestSendPathAllocs and TestReceivePathAllocs hold that.
//   - The event-loop path (replacing Serve, Send and the writer goroutine):
//     Poller (epoll + timerfd deadline + eventfd Wake), Conn.ReadBatch
//     (recvmmsg with kernel arrival timestamps), Conn.Queue/Flush (one
//     sendmmsg), Conn.SetFilter (kernel filters: only relevant adverts reach
//     the main socket's big buffer, the rest a small "reject" socket, still
//     read and counted). All allocation-free: TestBatchAllocs, TestPollerAllocs.
//   - Addresses: installs and removes virtual addresses with netlink (IPv6
//     without DAD) and flushes those a killed instance left behind.
//   - Announcer: gratuitous ARP / unsolicited NA bursts (spec §10), with
//     repeat, delay, periodic refresh, cancellable.
//   - VMAC: the per-virtual-router macvlan with 00:00:5e:00:0{1,2}:VRID (§9).
//   - LinkWatcher: netlink subscription turning link and address changes into
//     events (carrier, up/down, primary address, gone/back); a subscription
//     the kernel or the library ends is re-opened with backoff.
//
// Nothing here knows the state machine; the daemon wires them together.
// Every type takes an optional *netlink.Handle so tests can run it inside a
// network namespace (see netnstest); sockets are opened in the namespace of
// the calling thread.
package linux
