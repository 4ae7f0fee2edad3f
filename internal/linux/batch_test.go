package linux

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// overLAN runs f for IPv4 and IPv6, as subtests named by the family, on
// one two-node LAN: r1 sends, rx listens on the second node's eth0.
func overLAN(t *testing.T, f func(t *testing.T, fam vrrp.Family, r1 *lab.Node, rx *Conn)) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			f(t, fam, r1, listenIn(t, r2, ConnConfig{Family: fam}))
		})
	}
}

// groupOf is the VRRP multicast group of fam.
func groupOf(fam vrrp.Family) netip.Addr {
	if fam == vrrp.IPv6 {
		return vrrp.MulticastIPv6
	}
	return vrrp.MulticastIPv4
}

// setFilter installs on c a filter that passes vrids, those in anyTTL with
// any TTL/hop limit.
func setFilter(t testing.TB, c *Conn, vrids, anyTTL []uint8) {
	t.Helper()
	var spec FilterSpec
	for _, v := range vrids {
		spec.VRIDs[v] = true
	}
	for _, v := range anyTTL {
		spec.AnyTTL[v] = true
	}
	if err := c.SetFilter(&spec); err != nil {
		t.Fatal(err)
	}
}

// rawTx is a hand-made proto-112 sender in a node: any bytes, any TTL/hop
// limit, to the group or a unicast address on eth0. The Conn cannot send
// what the filter tests need.
type rawTx struct {
	fd int
}

func openRawTx(t testing.TB, nd *lab.Node, fam vrrp.Family, hops int, dst netip.Addr) *rawTx {
	t.Helper()
	tx := &rawTx{fd: -1}
	nd.MustDo(t, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		domain := unix.AF_INET
		if fam == vrrp.IPv6 {
			domain = unix.AF_INET6
		}
		fd, err := unix.Socket(domain, unix.SOCK_RAW|unix.SOCK_CLOEXEC, vrrp.IPProtocol)
		if err != nil {
			return err
		}
		tx.fd = fd
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, "eth0"); err != nil {
			return err
		}
		if fam == vrrp.IPv6 {
			// Connected, so that send is a plain write: the flood is fast.
			if err := unix.Connect(fd, &unix.SockaddrInet6{Addr: dst.As16(), ZoneId: uint32(ifi.Index)}); err != nil {
				return err
			}
			for _, o := range [][2]int{{unix.IPV6_MULTICAST_HOPS, hops}, {unix.IPV6_UNICAST_HOPS, hops}, {unix.IPV6_MULTICAST_IF, ifi.Index}, {unix.IPV6_MULTICAST_LOOP, 0}} {
				if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, o[0], o[1]); err != nil {
					return err
				}
			}
			return nil
		}
		if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: dst.As4()}); err != nil {
			return err
		}
		for _, o := range [][2]int{{unix.IP_MULTICAST_TTL, hops}, {unix.IP_TTL, hops}, {unix.IP_MULTICAST_LOOP, 0}} {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, o[0], o[1]); err != nil {
				return err
			}
		}
		return unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(ifi.Index)})
	})
	t.Cleanup(func() { unix.Close(tx.fd) })
	return tx
}

func (tx *rawTx) send(t testing.TB, b []byte) {
	t.Helper()
	for {
		_, err := unix.Write(tx.fd, b)
		if err == unix.ENOBUFS || err == unix.EINTR {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		return
	}
}

// vrrpBytes is a VRRP header-shaped payload: version/type byte, VRID, a
// priority that tags the packet, and one address's worth of filler.
func vrrpBytes(fam vrrp.Family, verType, vrid, tag byte) []byte {
	b := []byte{verType, vrid, tag, 1, 0, 100, 0, 0}
	n := 4
	if fam == vrrp.IPv6 {
		n = 16
	}
	return append(b, bytes.Repeat([]byte{tag}, n)...)
}

// collect reads c through a Poller until nothing arrived for quiet (or
// want packets came), copying the packets.
func collect(t *testing.T, c *Conn, want int, quiet time.Duration) []Packet {
	t.Helper()
	p := watch(t, c)
	var out []Packet
	pkts := make([]Packet, 16)
	last, deadline := time.Now(), time.Now().Add(waitLong)
	for time.Since(last) < quiet && time.Now().Before(deadline) && (want <= 0 || len(out) < want) {
		if err := p.Wait(quiet / 4); err != nil {
			t.Fatal(err)
		}
		n, _, err := c.ReadBatch(pkts)
		if err != nil {
			t.Fatal(err)
		}
		for _, pk := range pkts[:n] {
			pk.Payload = bytes.Clone(pk.Payload)
			out = append(out, pk)
			last = time.Now()
		}
	}
	return out
}

// readable blocks until c's socket has a datagram queued and returns the
// time it saw it.
func readable(t *testing.T, c *Conn) time.Time {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(waitLong/time.Millisecond))
	for err == unix.EINTR {
		n, err = unix.Poll(fds, int(waitLong/time.Millisecond))
	}
	if err != nil || n != 1 {
		t.Fatalf("socket not readable within %v: %v", waitLong, err)
	}
	return time.Now()
}

// stampsOn sends b until rx reads one with a kernel arrival time from
// before the read, and returns how many it sent. The first socket asking for
// timestamps turns them on for the whole kernel through deferred work, and
// until that has run, packets come without a stamp and recvmsg stamps them
// with its own time; a long-lived daemon socket sees that on its first
// packets at most.
func stampsOn(t *testing.T, tx *rawTx, rx *Conn, b []byte) int {
	t.Helper()
	pkts := make([]Packet, 4)
	for sent := 1; sent <= 100; sent++ {
		tx.send(t, b)
		queued := readable(t, rx)
		time.Sleep(2 * time.Millisecond)
		got, _, err := rx.ReadBatch(pkts)
		if err != nil || got != 1 {
			t.Fatalf("warm-up packet: %d read, %v", got, err)
		}
		if !pkts[0].Arrival.After(queued) {
			return sent
		}
	}
	t.Fatal("no kernel arrival time after 100 packets")
	return 0
}

// TestReadBatchBurst: a burst sent by a peer arrives in one recvmmsg, in
// wire order, with kernel timestamps taken on arrival; read 50 ms late,
// every packet still carries its own arrival time, not the read's.
func TestReadBatchBurst(t *testing.T) {
	overLAN(t, func(t *testing.T, fam vrrp.Family, r1 *lab.Node, rx *Conn) {
		group := groupOf(fam)
		tx := openRawTx(t, r1, fam, 255, group)
		const n = 20
		pkts := make([]Packet, 32)
		warm := stampsOn(t, tx, rx, vrrpBytes(fam, 0x31, 51, 0xee))

		before := time.Now()
		for i := range n {
			tx.send(t, vrrpBytes(fam, 0x31, 51, byte(i)))
		}
		queued := readable(t, rx)
		time.Sleep(20 * time.Millisecond) // let the burst land
		readAt := time.Now()
		got, _, err := rx.ReadBatch(pkts)
		if err != nil || got != n {
			t.Fatalf("one ReadBatch after a burst of %d: %d, %v", n, got, err)
		}
		for i, p := range pkts[:got] {
			if p.Rejected || p.Payload[2] != byte(i) || p.IP.TTL != 255 || p.IP.Dst != group {
				t.Fatalf("packet %d: tag %d rejected %v facts %+v", i, p.Payload[2], p.Rejected, p.IP)
			}
			// Bounds that hold on a loaded box too, where the kernel
			// may deliver a veth's packets many milliseconds late:
			// after the first send, and before the read (the first
			// no later than the socket turned readable).
			if p.Arrival.Before(before) || p.Arrival.After(readAt) || i == 0 && p.Arrival.After(queued) {
				t.Fatalf("packet %d arrived %v: sent from %v, readable at %v, read at %v", i, p.Arrival, before, queued, readAt)
			}
			if i > 0 && p.Arrival.Before(pkts[i-1].Arrival) {
				t.Fatalf("arrival times go back: %v then %v", pkts[i-1].Arrival, p.Arrival)
			}
		}
		t.Logf("burst of %d: first arrival %v after the first send, spread %v",
			n, pkts[0].Arrival.Sub(before), pkts[n-1].Arrival.Sub(pkts[0].Arrival))
		if got, _, _ := rx.ReadBatch(pkts); got != 0 {
			t.Fatalf("%d more packets", got)
		}

		// Late read: the arrival time is the kernel's, not ours.
		for i := range 5 {
			tx.send(t, vrrpBytes(fam, 0x31, 51, byte(i)))
		}
		queued = readable(t, rx)
		time.Sleep(50 * time.Millisecond)
		read := time.Now()
		got, _, _ = rx.ReadBatch(pkts)
		if got != 5 {
			t.Fatalf("late read: %d packets, want 5", got)
		}
		// The first packet was queued before the sleep, so its
		// kernel arrival time is at least 50 ms before the read.
		if age := read.Sub(pkts[0].Arrival); age < read.Sub(queued) || age > time.Second {
			t.Fatalf("read %v after the packet was queued, Arrival is %v before the read", read.Sub(queued), age)
		}
		for _, p := range pkts[:got] {
			if p.Arrival.After(read) {
				t.Fatalf("Arrival %v after the read at %v", p.Arrival, read)
			}
		}
		if st := rx.Stats(); st.Received != uint64(n+5+warm) || st.Rejected != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// maskedIP zeroes what differs between two sends of the same advert: the
// IPv4 identification and header checksum, the IPv6 flow label.
func maskedIP(f []byte) []byte {
	ip := bytes.Clone(f[14:])
	if lab.EtherType(f) == 0x0800 {
		ip[4], ip[5], ip[10], ip[11] = 0, 0, 0, 0
		return ip
	}
	ip[1] &= 0xf0
	ip[2], ip[3] = 0, 0
	return ip
}

// xnetWrite sends b to dst from c's source with x/net's WriteTo on c's own
// socket, with the pktinfo control message x/net builds (source,
// interface): what govrrp sent before its sender was built by hand.
func xnetWrite(t *testing.T, c *Conn, b []byte, dst netip.Addr) {
	t.Helper()
	to := &net.IPAddr{IP: dst.AsSlice()}
	var err error
	if c.fam == vrrp.IPv6 {
		if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() {
			to.Zone = strconv.Itoa(c.ifindex) // numeric: no lookup in this thread's namespace
		}
		_, err = c.p6.WriteTo(b, &ipv6.ControlMessage{Src: c.Source().AsSlice(), IfIndex: c.ifindex}, to)
	} else {
		_, err = c.p4.WriteTo(b, &ipv4.ControlMessage{Src: c.Source().AsSlice(), IfIndex: c.ifindex}, to)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestQueueFlush: adverts queued for the group and for two unicast peers
// leave with one Flush, and each frame is byte for byte (but for the IPv4
// ID and the IPv6 flow label) what x/net's sendmsg puts on the wire.
func TestQueueFlush(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	r1, r2, r3 := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	s2, s3 := lab.Sniff(t, r2, "eth0"), lab.Sniff(t, r3, "eth0")
	cases := []struct {
		name  string
		fam   vrrp.Family
		peers []netip.Addr
		vip   string
	}{
		{"IPv4", vrrp.IPv4, nil, "10.77.0.254"},
		{"IPv6", vrrp.IPv6, nil, "fe80::51"},
		{"IPv4-unicast", vrrp.IPv4, []netip.Addr{r2.V4.Addr(), r3.V4.Addr()}, "10.77.0.254"},
		{"IPv6-unicast", vrrp.IPv6, []netip.Addr{r2.V6.Addr(), r3.V6.Addr()}, "fd77::254"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := listenIn(t, r1, ConnConfig{Family: c.fam, Peers: c.peers})
			ethType := uint16(0x0800)
			if c.fam == vrrp.IPv6 {
				ethType = 0x86dd
			}
			isVRRP := func(f []byte) bool {
				if lab.EtherType(f) != ethType {
					return false
				}
				if ethType == 0x0800 {
					return len(f) > 23 && f[23] == 112
				}
				return len(f) > 20 && f[20] == 112
			}
			// One sniffer per destination (the group reaches both).
			sniffers := []*lab.Sniffer{s2}
			if len(c.peers) > 0 {
				sniffers = []*lab.Sniffer{s2, s3}
			}
			frames := func(k int) [][]byte {
				var out [][]byte
				for _, s := range sniffers {
					for range k {
						f, err := s.Next(waitLong, isVRRP)
						if err != nil {
							t.Fatal(err)
						}
						out = append(out, maskedIP(f))
					}
				}
				return out
			}
			s2.Drain()
			s3.Drain()
			const k = 3
			msgs := make([]*vrrp.Message, k)
			for i := range msgs {
				msgs[i] = advert(c.fam, c.vip)
				msgs[i].Priority = byte(100 + i)
			}
			// The reference: x/net's sendmsg, one advert at a time, to
			// each destination.
			var want [][]byte
			for _, m := range msgs {
				for _, dst := range tx.dsts {
					b, err := m.Encode(nil, tx.Source(), dst, vrrp.ChecksumPseudoHeader)
					if err != nil {
						t.Fatal(err)
					}
					xnetWrite(t, tx, b, dst)
				}
				want = append(want, frames(1)...)
			}
			before := tx.Stats()
			for _, m := range msgs {
				if err := tx.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
					t.Fatal(err)
				}
			}
			if q := tx.Queued(); q != k*len(sniffers) {
				t.Fatalf("%d queued, want %d", q, k*len(sniffers))
			}
			if err := tx.Flush(); err != nil {
				t.Fatal(err)
			}
			got := frames(k)
			// want is ordered advert by advert, got sniffer by sniffer.
			for i := range k {
				for j := range sniffers {
					w, g := want[i*len(sniffers)+j], got[j*k+i]
					if !bytes.Equal(w, g) {
						t.Fatalf("advert %d to destination %d:\nsendmmsg % x\nx/net    % x", i, j, g, w)
					}
				}
			}
			st := tx.Stats()
			if d := st.Sent - before.Sent; d != uint64(k*len(sniffers)) || st.SendErrors != 0 || st.QueueDrops != 0 || tx.Queued() != 0 {
				t.Fatalf("sent %d, stats %+v", d, st)
			}
		})
	}
}

// TestQueueFullFlushes: the 65th datagram flushes the batch by itself.
func TestQueueFullFlushes(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	tx := listenIn(t, lan.Nodes[0], ConnConfig{Family: vrrp.IPv4})
	m := advert(vrrp.IPv4, "10.77.0.254")
	for range txSlots + 1 {
		if err := tx.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
			t.Fatal(err)
		}
	}
	if st := tx.Stats(); st.Sent != txSlots || tx.Queued() != 1 {
		t.Fatalf("after %d Queues: %d queued, stats %+v", txSlots+1, tx.Queued(), st)
	}
	if err := tx.Flush(); err != nil || tx.Stats().Sent != txSlots+1 {
		t.Fatalf("Flush %v, stats %+v", err, tx.Stats())
	}
}

// TestFlushNeverBlocks: with the socket's send buffer full, Flush drops the
// rest of the batch at once, counts it (QueueDrops) and reports
// ErrQueueFull, instead of waiting for the interface; the batch is empty
// afterwards and the Conn usable.
func TestFlushNeverBlocks(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	// A unicast peer nobody answers ARP for: its datagrams wait in the
	// neighbour's queue, still charged to the socket's send buffer, until
	// resolution fails (3 s), so a tiny buffer fills after a few.
	ghost := netip.MustParseAddr("10.77.0.200")
	tx := listenIn(t, lan.Nodes[0], ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{ghost}})
	if err := unix.SetsockoptInt(tx.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1); err != nil { // the kernel's minimum
		t.Fatal(err)
	}
	m := advert(vrrp.IPv4, "10.77.0.254")
	for range 2 {
		before := tx.Stats()
		for range txSlots {
			if err := tx.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		err := tx.Flush()
		took := time.Since(start)
		st := tx.Stats()
		sent, dropped := st.Sent-before.Sent, st.QueueDrops-before.QueueDrops
		t.Logf("Flush of %d: %d sent, %d dropped in %v: %v", txSlots, sent, dropped, took, err)
		if !errors.Is(err, ErrQueueFull) || dropped == 0 || sent+dropped != txSlots || st.SendErrors != 0 || tx.Queued() != 0 {
			t.Fatalf("Flush = %v, %d sent, %d dropped, stats %+v, %d queued; want ErrQueueFull and all %d either sent or dropped",
				err, sent, dropped, st, tx.Queued(), txSlots)
		}
		// Far below the 3 s the buffer stays full: Flush did not wait.
		if took > time.Second {
			t.Fatalf("Flush took %v", took)
		}
	}
}

// TestFilter [5798-7.1-a][5798-5.1.1.3-b][5798-5.1.2.3-b]: only adverts for
// a configured VRID, with TTL/hop limit 255 unless the VRID takes any,
// reach the main socket; everything else reaches the reject socket, so the
// validator still counts it.
func TestFilter(t *testing.T) {
	overLAN(t, func(t *testing.T, fam vrrp.Family, r1 *lab.Node, rx *Conn) {
		setFilter(t, rx, []uint8{51, 52, 200}, []uint8{52, 99}) // 99: AnyTTL alone does not configure it
		group := groupOf(fam)
		tx255, tx254, tx64 := openRawTx(t, r1, fam, 255, group), openRawTx(t, r1, fam, 254, group), openRawTx(t, r1, fam, 64, group)
		type send struct {
			name string
			tx   *rawTx
			b    []byte
			main bool
		}
		v2main := fam == vrrp.IPv4
		sends := []send{
			{"v3 vrid 51 ttl 255", tx255, vrrpBytes(fam, 0x31, 51, 1), true},
			{"v3 vrid 200 ttl 255", tx255, vrrpBytes(fam, 0x31, 200, 2), true},
			{"v3 vrid 52 (any ttl) ttl 64", tx64, vrrpBytes(fam, 0x31, 52, 3), true},
			{"v2 vrid 51 ttl 255", tx255, vrrpBytes(fam, 0x21, 51, 4), v2main},
			{"v3 vrid 51 ttl 254", tx254, vrrpBytes(fam, 0x31, 51, 5), false},
			{"v3 vrid 51 ttl 64", tx64, vrrpBytes(fam, 0x31, 51, 6), false},
			{"v3 vrid 99 (unconfigured) ttl 255", tx255, vrrpBytes(fam, 0x31, 99, 7), false},
			{"v3 vrid 99 (unconfigured, any ttl) ttl 64", tx64, vrrpBytes(fam, 0x31, 99, 8), false},
			{"v3 vrid 50 ttl 255", tx255, vrrpBytes(fam, 0x31, 50, 9), false},
			{"v1", tx255, vrrpBytes(fam, 0x11, 51, 10), false},
			{"v4", tx255, vrrpBytes(fam, 0x41, 51, 11), false},
			{"v3 type 2", tx255, vrrpBytes(fam, 0x32, 51, 12), false},
			{"short junk", tx255, []byte{0x31, 51, 13}, false},
			{"junk", tx255, append([]byte{0xde, 0xad, 14}, bytes.Repeat([]byte{0x5a}, 97)...), false},
			{"empty", tx255, nil, false},
		}
		for _, s := range sends {
			s.tx.send(t, s.b)
		}
		got := collect(t, rx, len(sends), 300*time.Millisecond)
		seen := map[string]bool{}
		for _, p := range got {
			var s *send
			for i := range sends {
				if bytes.Equal(sends[i].b, p.Payload) {
					s = &sends[i]
				}
			}
			if s == nil {
				t.Errorf("unexpected packet % x", p.Payload)
				continue
			}
			seen[s.name] = true
			if p.Rejected == s.main {
				t.Errorf("%s: Rejected=%v, want main socket %v (ttl %d)", s.name, p.Rejected, s.main, p.IP.TTL)
			}
		}
		for _, s := range sends {
			// Junk may be dropped by the reject socket's filter, but
			// nothing the filter can parse is.
			if !seen[s.name] && (s.main || len(s.b) >= 8) {
				t.Errorf("%s: never arrived", s.name)
			}
		}
		if !t.Failed() {
			t.Logf("%d sent, %d received, %d rejected", len(sends), len(got), rx.Stats().Rejected)
		}
	})
}

// TestFilterFlood: 200k junk datagrams (an unconfigured VRID, a wrong TTL,
// random bytes) while the loop does not read at all: the configured
// adverts sent during the flood all wait in the main socket, the junk
// overflows the reject socket's small buffer, and that is counted.
func TestFilterFlood(t *testing.T) {
	overLAN(t, func(t *testing.T, fam vrrp.Family, r1 *lab.Node, rx *Conn) {
		setFilter(t, rx, []uint8{51}, nil)
		group := groupOf(fam)
		good, bad := openRawTx(t, r1, fam, 255, group), openRawTx(t, r1, fam, 254, group)
		const flood, every = 200_000, 2000
		junk := [][]byte{
			vrrpBytes(fam, 0x31, 99, 0),
			vrrpBytes(fam, 0x31, 51, 0), // sent with TTL 254
			bytes.Repeat([]byte{0xa5}, 40),
		}
		start := time.Now()
		adverts := 0
		for i := range flood {
			if i%1000 == 0 && time.Since(start) > 15*time.Second {
				t.Fatalf("flood still running after 15s (%d sent)", i)
			}
			if i%every == 0 {
				good.send(t, vrrpBytes(fam, 0x31, 51, byte(adverts)))
				adverts++
			}
			j := junk[i%len(junk)]
			if i%len(junk) == 1 {
				bad.send(t, j)
			} else {
				good.send(t, j)
			}
		}
		t.Logf("%d junk and %d adverts sent in %v", flood, adverts, time.Since(start))
		got := collect(t, rx, 0, 200*time.Millisecond)
		main := 0
		for _, p := range got {
			if p.Rejected {
				continue
			}
			if p.Payload[1] != 51 || p.Payload[2] != byte(main) {
				t.Fatalf("main socket packet % x, want advert %d", p.Payload, main)
			}
			main++
		}
		// The kernel reports the reject socket's drops (SO_RXQ_OVFL)
		// with the next datagram it queues after them.
		bad.send(t, junk[0])
		collect(t, rx, 1, 200*time.Millisecond)
		st := rx.Stats()
		t.Logf("main %d, rejected %d, stats %+v", main, st.Rejected, st)
		if main != adverts || st.Overflow != 0 {
			t.Fatalf("%d of %d adverts reached the main socket (its drops: %d)", main, adverts, st.Overflow)
		}
		if st.RejectOverflow == 0 || st.Rejected == 0 {
			t.Fatalf("reject socket: %d read, %d overflowed; want both > 0", st.Rejected, st.RejectOverflow)
		}
	})
}

// TestBatchAllocs: ReadBatch (from both sockets) and Queue+Flush cost
// no allocation.
func TestBatchAllocs(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4})
	setFilter(t, rx, []uint8{51}, nil)
	tx := openRawTx(t, r1, vrrp.IPv4, 255, vrrp.MulticastIPv4)
	for i := range 100 {
		tx.send(t, vrrpBytes(vrrp.IPv4, 0x31, 51, byte(i)))
		tx.send(t, vrrpBytes(vrrp.IPv4, 0x31, 99, byte(i)))
	}
	time.Sleep(50 * time.Millisecond)
	pkts := make([]Packet, 4)
	read := 0
	if n := testing.AllocsPerRun(60, func() {
		n, _, _ := rx.ReadBatch(pkts)
		read += n
	}); n != 0 {
		t.Errorf("ReadBatch: %v allocations", n)
	}
	if st := rx.Stats(); read != 200 || st.Rejected != 100 {
		t.Errorf("read %d, stats %+v: want all 200, 100 rejected", read, st)
	}

	for _, c := range []ConnConfig{
		{Family: vrrp.IPv4, Peers: []netip.Addr{r2.V4.Addr(), lan.Nodes[2].V4.Addr()}},
		{Family: vrrp.IPv6},
	} {
		t.Run(fmt.Sprint(c.Family, len(c.Peers)), func(t *testing.T) {
			s := listenIn(t, r1, c)
			vip := "10.77.0.254"
			if c.Family == vrrp.IPv6 {
				vip = "fe80::51"
			}
			m := advert(c.Family, vip)
			if n := testing.AllocsPerRun(100, func() {
				if err := s.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
					panic(err)
				}
				if err := s.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
					panic(err)
				}
				if err := s.Flush(); err != nil {
					panic(err)
				}
			}); n != 0 {
				t.Errorf("Queue+Flush: %v allocations", n)
			}
			if st := s.Stats(); st.Sent != 101*2*uint64(max(1, len(c.Peers))) || st.SendErrors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestSendOnlyNoReceive: a SendOnly Conn has nothing to poll, no filter.
func TestSendOnlyNoReceive(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	c := listenIn(t, lan.Nodes[0], ConnConfig{Family: vrrp.IPv4, SendOnly: true})
	if fds := c.Fds(); len(fds) != 0 {
		t.Fatalf("Fds = %v", fds)
	}
	if err := c.SetFilter(&FilterSpec{}); err != ErrSendOnly {
		t.Fatalf("SetFilter = %v", err)
	}
	if n, _, err := c.ReadBatch(make([]Packet, 4)); n != 0 || err != nil {
		t.Fatalf("ReadBatch = %d, %v", n, err)
	}
}

// TestReceiveBuffers: the main socket's buffer is raised, the reject
// socket's kept small.
func TestReceiveBuffers(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	c := listenIn(t, lan.Nodes[0], ConnConfig{Family: vrrp.IPv6})
	fds := c.Fds()
	if len(fds) != 2 {
		t.Fatalf("Fds = %v", fds)
	}
	// The kernel reports twice the size asked for (bookkeeping overhead).
	m, _ := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_RCVBUF)
	r, _ := unix.GetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_RCVBUF)
	if m < mainRcvbuf || r > 2*rejectRcvbuf {
		t.Fatalf("SO_RCVBUF main %d reject %d", m, r)
	}
}
