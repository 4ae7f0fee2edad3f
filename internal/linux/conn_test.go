package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

const waitLong = 5 * time.Second // generous: CI machines are noisy

// listenIn opens a Conn inside nd and closes it when the test ends.
func listenIn(t *testing.T, nd *lab.Node, cfg ConnConfig) *Conn {
	t.Helper()
	if cfg.Interface == "" {
		cfg.Interface = "eth0"
	}
	cfg.Netlink = nd.Handle
	var c *Conn
	nd.MustDo(t, func() (err error) {
		c, err = Listen(cfg)
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// send queues m on c and flushes the batch, as the event loop does at the
// end of a step: one datagram per destination, written when it returns.
func send(t testing.TB, c *Conn, m *vrrp.Message) {
	t.Helper()
	if err := c.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// readUntil reads c as the event loop does (a Poller on Fds, then
// ReadBatch), copying the packets, until done says so; it fails the test
// after waitLong.
func readUntil(t *testing.T, c *Conn, done func(got []Packet) bool) []Packet {
	t.Helper()
	p := watch(t, c)
	var out []Packet
	pkts := make([]Packet, 16)
	for deadline := time.Now().Add(waitLong); !done(out); {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d packets read, stats %+v", waitLong, len(out), c.Stats())
		}
		if err := p.Wait(50 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for more := true; more; {
			var n int
			var err error
			n, more, err = c.ReadBatch(pkts)
			if err != nil {
				t.Fatal(err)
			}
			for _, pk := range pkts[:n] {
				pk.Payload = bytes.Clone(pk.Payload)
				out = append(out, pk)
			}
		}
	}
	return out
}

// receive waits for one datagram on c.
func receive(t *testing.T, c *Conn) Packet {
	t.Helper()
	return readUntil(t, c, func(got []Packet) bool { return len(got) > 0 })[0]
}

// check runs on p the receive checks the event loop runs, with cfg the
// virtual router configured for VRID 51 (the only one).
func check(p Packet, cfg *vrrp.Config) (vrrp.Message, error) {
	v := newChecker(cfg)
	err := v.check(&p)
	return v.msg, err
}

func advert(fam vrrp.Family, addrs ...string) *vrrp.Message {
	m := &vrrp.Message{Version: 3, VRID: 51, Priority: 150, Family: fam, Interval: time.Second}
	for _, a := range addrs {
		m.Addresses = append(m.Addresses, netip.MustParseAddr(a))
	}
	return m
}

// TestConnIPv4Wire sends an advert between two namespaces (Queue+Flush,
// ReadBatch) and checks the frame a third one sees byte by byte against the
// codec, the facts the receiver got from the kernel, and that the advert
// passes every receive check.
func TestConnIPv4Wire(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	r1, r2, obs := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	sniff := lab.Sniff(t, obs, "eth0")

	tx := listenIn(t, r1, ConnConfig{Family: vrrp.IPv4})
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4})
	if got, want := tx.Source(), r1.V4.Addr(); got != want {
		t.Fatalf("source = %v, want primary %v", got, want)
	}
	cfg := &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.254")}}

	before := time.Now()
	send(t, tx, advert(vrrp.IPv4, "10.77.0.254"))
	// Flush has written the datagram when it returns.
	if st := tx.Stats(); st.Sent != 1 || st.SendErrors != 0 || st.QueueDrops != 0 || tx.Queued() != 0 {
		t.Errorf("tx stats %+v, %d queued", st, tx.Queued())
	}
	p := receive(t, rx)
	got, err := check(p, cfg)
	if err != nil {
		t.Fatalf("receive checks: %v", err)
	}
	if got.VRID != 51 || got.Priority != 150 {
		t.Fatalf("received %+v", got)
	}
	eth0, _ := r2.Interface("eth0")
	if p.IP.TTL != 255 || p.IP.Src != r1.V4.Addr() || p.IP.Dst != vrrp.MulticastIPv4 || p.IfIndex != eth0.Index || p.Rejected {
		t.Fatalf("kernel facts = %+v ifindex %d rejected %v, want TTL 255 src %v dst 224.0.0.18 ifindex %d", p.IP, p.IfIndex, p.Rejected, r1.V4.Addr(), eth0.Index)
	}
	if p.Arrival.Before(before.Add(-time.Millisecond)) || p.Arrival.After(time.Now()) {
		t.Errorf("arrival %v, sent at %v", p.Arrival, before)
	}
	if st := rx.Stats(); st.Received != 1 {
		t.Errorf("rx stats %+v", st)
	}

	want, _ := advert(vrrp.IPv4, "10.77.0.254").Encode(nil, r1.V4.Addr(), vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	f, err := sniff.Next(waitLong, func(f []byte) bool { return lab.EtherType(f) == 0x0800 && len(f) > 23 && f[23] == 112 })
	if err != nil {
		t.Fatal(err)
	}
	src1, _ := r1.Interface("eth0")
	if !bytes.Equal(f[0:6], []byte{1, 0, 0x5e, 0, 0, 0x12}) || !bytes.Equal(f[6:12], src1.HardwareAddr) {
		t.Errorf("ethernet dst/src = % x / % x", f[0:6], f[6:12])
	}
	ip := f[14:]
	ihl := int(ip[0]&0xf) * 4
	if ip[0]>>4 != 4 || ip[1] != 0xC0 || ip[8] != 255 || ip[9] != 112 {
		t.Errorf("IPv4 header % x: want TOS c0, TTL ff, proto 70", ip[:ihl])
	}
	if !bytes.Equal(ip[12:16], r1.V4.Addr().AsSlice()) || !bytes.Equal(ip[16:20], []byte{224, 0, 0, 18}) {
		t.Errorf("IPv4 addresses % x", ip[12:20])
	}
	tot := int(binary.BigEndian.Uint16(ip[2:4]))
	if !bytes.Equal(ip[ihl:tot], want) {
		t.Errorf("VRRP on the wire % x\nwant (codec)     % x", ip[ihl:tot], want)
	}
}

// TestConnIPv6Wire is TestConnIPv4Wire over IPv6: link-local source, hop
// limit 255, traffic class 0xC0, checksum from the codec.
func TestConnIPv6Wire(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	r1, r2, obs := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	sniff := lab.Sniff(t, obs, "eth0")
	ll1, err := r1.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	tx := listenIn(t, r1, ConnConfig{Family: vrrp.IPv6})
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv6})
	if tx.Source() != ll1 {
		t.Fatalf("source = %v, want link-local %v", tx.Source(), ll1)
	}
	send(t, tx, advert(vrrp.IPv6, "fe80::51", "fd77::51"))
	if st := tx.Stats(); st.Sent != 1 || st.SendErrors != 0 || st.QueueDrops != 0 {
		t.Errorf("tx stats %+v", st)
	}
	p := receive(t, rx)
	// The checksum is verified here, in userspace [IMPL-3].
	if _, err := check(p, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second}); err != nil {
		t.Fatalf("receive checks: %v", err)
	}
	eth0, _ := r2.Interface("eth0")
	if p.IP.TTL != 255 || p.IP.Src != ll1 || p.IP.Dst != vrrp.MulticastIPv6 || p.IfIndex != eth0.Index || p.Rejected {
		t.Fatalf("kernel facts = %+v ifindex %d rejected %v", p.IP, p.IfIndex, p.Rejected)
	}
	want, _ := advert(vrrp.IPv6, "fe80::51", "fd77::51").Encode(nil, ll1, vrrp.MulticastIPv6, vrrp.ChecksumPseudoHeader)
	f, err := sniff.Next(waitLong, func(f []byte) bool { return lab.EtherType(f) == 0x86dd && len(f) > 20 && f[20] == 112 })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f[0:6], []byte{0x33, 0x33, 0, 0, 0, 0x12}) {
		t.Errorf("ethernet dst % x", f[0:6])
	}
	ip := f[14:]
	tc := (binary.BigEndian.Uint32(ip[0:4]) >> 20) & 0xff
	if tc != 0xC0 || ip[7] != 255 || !bytes.Equal(ip[8:24], ll1.AsSlice()) || !bytes.Equal(ip[24:40], vrrp.MulticastIPv6.AsSlice()) {
		t.Errorf("IPv6 header % x", ip[:40])
	}
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	if !bytes.Equal(ip[40:40+plen], want) {
		t.Errorf("VRRP on the wire % x\nwant (codec)     % x", ip[40:40+plen], want)
	}
}

// TestConnTTLDropped [5798-7.1-a][5798-5.1.1.3-b][5798-5.1.2.3-b]: valid
// adverts sent with TTL 64 / hop limit 64 from another namespace reach the
// receiver with the real value, and the receive checks drop them as TTL
// errors (the check the loop counts them under). Both without a kernel filter (the main socket) and with the
// loop's filter for VRID 51, which sends them to the reject socket: its
// separately parsed IPv6 hop limit must be the real one too.
func TestConnTTLDropped(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		for _, filtered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/filtered=%v", fam, filtered), func(t *testing.T) {
				rx := listenIn(t, r2, ConnConfig{Family: fam})
				if filtered {
					setFilter(t, rx, []uint8{51}, nil)
				}
				pc, src, dst := ttl64Sender(t, r1, fam)
				addr := "10.77.0.254"
				if fam == vrrp.IPv6 {
					addr = "fe80::51"
				}
				b, _ := advert(fam, addr).Encode(nil, src, dst, vrrp.ChecksumPseudoHeader)
				eth0, _ := r1.Interface("eth0")
				// Numeric zone: a name would be resolved in this thread's namespace.
				if _, err := pc.WriteTo(b, &net.IPAddr{IP: dst.AsSlice(), Zone: strconv.Itoa(eth0.Index)}); err != nil {
					t.Fatal(err)
				}
				p := receive(t, rx)
				if p.IP.TTL != 64 || p.IP.Src != src || p.IP.Dst != dst || p.Rejected != filtered {
					t.Fatalf("kernel facts %+v rejected %v, want TTL 64 from %v to %v, rejected %v", p.IP, p.Rejected, src, dst, filtered)
				}
				m, err := check(p, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second})
				if !errors.Is(err, vrrp.ErrTTL) || vrrp.CheckOf(err) != vrrp.CheckTTL || vrrp.Reason(err) != "ttl" {
					t.Fatalf("TTL-64 advert: %v (check %v), want ErrTTL; message %+v", err, vrrp.CheckOf(err), m)
				}
				if st := rx.Stats(); st.Received != 1 || (st.Rejected == 1) != filtered {
					t.Fatalf("rx stats %+v", st)
				}
			})
		}
	}
}

// ttl64Sender opens a hand-made sender in nd that sends with TTL / hop limit
// 64 (the Conn itself cannot send TTL != 255), and returns it with the
// source and the group it sends from and to.
func ttl64Sender(t *testing.T, nd *lab.Node, fam vrrp.Family) (pc net.PacketConn, src, dst netip.Addr) {
	t.Helper()
	nd.MustDo(t, func() (err error) {
		if fam == vrrp.IPv4 {
			pc, err = net.ListenPacket("ip4:112", nd.V4.Addr().String())
			if err != nil {
				return err
			}
			src, dst = nd.V4.Addr(), vrrp.MulticastIPv4
			ifi, _ := net.InterfaceByName("eth0")
			p := ipv4.NewPacketConn(pc)
			if err := p.SetMulticastInterface(ifi); err != nil {
				return err
			}
			return p.SetMulticastTTL(64)
		}
		ll, err := nd.LinkLocal("eth0")
		if err != nil {
			return err
		}
		// Numeric zone: the name would go through the net
		// package's process-wide cache, filled in whichever
		// namespace looked "eth0" up first.
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		pc, err = net.ListenPacket("ip6:112", ll.String()+"%"+strconv.Itoa(ifi.Index))
		if err != nil {
			return err
		}
		src, dst = ll, vrrp.MulticastIPv6
		return setMcastHops6(pc, 64)
	})
	t.Cleanup(func() { pc.Close() })
	return pc, src, dst
}

// TestConnMulticastJoinOnlyOnInterface checks the group is joined on the
// configured interface only, and that the socket does not see adverts that
// arrive on another interface.
func TestConnMulticastJoinOnlyOnInterface(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	// A second LAN-less interface pair in r2 whose other end is in r1:
	// traffic on it must not reach r2's eth0 socket.
	r1.MustIP(t, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1", "netns", r2.Name)
	r1.MustIP(t, "addr", "add", "10.78.0.1/24", "dev", "eth1")
	r2.MustIP(t, "addr", "add", "10.78.0.2/24", "dev", "eth1")
	r1.MustIP(t, "link", "set", "eth1", "up")
	r2.MustIP(t, "link", "set", "eth1", "up")

	rx4 := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4})
	rx6 := listenIn(t, r2, ConnConfig{Family: vrrp.IPv6})
	for _, dev := range []string{"eth0", "eth1"} {
		out := r2.MustIP(t, "maddr", "show", "dev", dev)
		has4, has6 := strings.Contains(out, "224.0.0.18"), strings.Contains(out, "ff02::12")
		if want := dev == "eth0"; has4 != want || has6 != want {
			t.Errorf("%s joined 224.0.0.18=%v ff02::12=%v, want %v:\n%s", dev, has4, has6, want, out)
		}
	}

	// r1 sends on eth1 (same subnet as nothing r2's eth0 has); make r2 join
	// the group on eth1 with another socket so the packet is accepted there.
	other := listenIn(t, r2, ConnConfig{Interface: "eth1", Family: vrrp.IPv4})
	tx := listenIn(t, r1, ConnConfig{Interface: "eth1", Family: vrrp.IPv4})
	send(t, tx, advert(vrrp.IPv4, "10.78.0.254"))
	// Delivered to every socket of r2 in the same pass: once the eth1
	// socket has it, the eth0 socket would have it too.
	if p := receive(t, other); p.IP.Src != netip.MustParseAddr("10.78.0.1") {
		t.Fatalf("eth1 socket got %+v: the test proves nothing", p.IP)
	}
	pkts := make([]Packet, 4)
	for _, rx := range []*Conn{rx4, rx6} {
		if n, _, err := rx.ReadBatch(pkts); n != 0 || err != nil || rx.Stats().Received != 0 {
			t.Fatalf("eth0 socket read %d packets sent on eth1 (%v), stats %+v", n, err, rx.Stats())
		}
	}
}

// TestConnUnicastPeers: adverts go to each peer, and only configured peers
// are accepted.
func TestConnUnicastPeers(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	r1, r2, r3 := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	peer1, peer2 := r1.V4.Addr(), r2.V4.Addr()
	tx1 := listenIn(t, r1, ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{peer2}})
	tx3 := listenIn(t, r3, ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{peer2}})
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{peer1}})
	send(t, tx3, advert(vrrp.IPv4, "10.77.0.254"))
	send(t, tx1, advert(vrrp.IPv4, "10.77.0.254"))
	got := readUntil(t, rx, func(got []Packet) bool { return len(got) > 0 && rx.Stats().NotPeer > 0 })
	st := rx.Stats()
	if st.NotPeer != 1 || st.Received != 1 || len(got) != 1 {
		t.Fatalf("%d read, stats %+v, want 1 from the peer received and 1 from r3 dropped", len(got), st)
	}
	p := got[0]
	if p.IP.Src != peer1 || p.IP.Dst != peer2 {
		t.Fatalf("got %+v", p.IP)
	}
	if _, err := check(p, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Peers: []netip.Addr{peer1}}); err != nil {
		t.Fatalf("receive checks: %v", err)
	}
	// The checksum must use the real unicast destination (keepalived ≥ 1.3.6).
	want, _ := advert(vrrp.IPv4, "10.77.0.254").Encode(nil, peer1, peer2, vrrp.ChecksumPseudoHeader)
	if !bytes.Equal(p.Payload, want) {
		t.Fatalf("payload % x, want % x", p.Payload, want)
	}
}

// watch returns a Poller watching c, as the daemon's loop has, closed when
// the test ends.
func watch(t *testing.T, c *Conn) *Poller {
	t.Helper()
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := c.WatchWith(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConnUnicastSource: with Source set (unicast_source, keepalived's
// unicast_src_ip) unicast adverts leave from that address, not the
// interface's primary address or, for IPv6, its link-local; the checksum
// covers it, so a peer listing it accepts them.
func TestConnUnicastSource(t *testing.T) {
	for _, tc := range []struct {
		fam  vrrp.Family
		src  string // an extra address of r1's eth0
		plen string
		vip  string
	}{
		{vrrp.IPv4, "10.77.0.101", "/24", "10.77.0.254"},
		{vrrp.IPv6, "fd77::101", "/64", "fd77::254"},
	} {
		t.Run(tc.fam.String(), func(t *testing.T) {
			lan := lab.NewLAN(t, 2)
			r1, r2 := lan.Nodes[0], lan.Nodes[1]
			src := netip.MustParseAddr(tc.src)
			peer2 := r2.V4.Addr()
			if tc.fam == vrrp.IPv6 {
				peer2 = r2.V6.Addr()
			}
			r1.MustIP(t, "addr", "add", tc.src+tc.plen, "dev", "eth0", "nodad")
			tx := listenIn(t, r1, ConnConfig{Family: tc.fam, Source: src, Peers: []netip.Addr{peer2}, SendOnly: true})
			rx := listenIn(t, r2, ConnConfig{Family: tc.fam, Peers: []netip.Addr{src}})
			send(t, tx, advert(tc.fam, tc.vip))
			p := receive(t, rx)
			if p.IP.Src != src || p.IP.Dst != peer2 {
				t.Fatalf("advert from %v to %v, want from %v to %v", p.IP.Src, p.IP.Dst, src, peer2)
			}
			if _, err := check(p, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Peers: []netip.Addr{src}}); err != nil {
				t.Fatalf("receive checks: %v", err)
			}
		})
	}
}
