package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"govrrp/internal/linux/netnstest"
	"govrrp/vrrp"
)

const waitLong = 5 * time.Second // generous: CI machines are noisy

// listenIn opens a Conn inside nd and closes it when the test ends.
func listenIn(t *testing.T, nd *netnstest.Node, cfg ConnConfig) *Conn {
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

// recorder collects what a Conn hands to its handler and what a Demux
// delivers.
type recorder struct {
	mu      sync.Mutex
	packets []Packet // payload copied
	got     chan vrrp.Message
}

func newRecorder() *recorder { return &recorder{got: make(chan vrrp.Message, 64)} }

func (r *recorder) wrap(h Handler) Handler {
	return func(p *Packet) {
		r.mu.Lock()
		cp := *p
		cp.Payload = bytes.Clone(p.Payload)
		r.packets = append(r.packets, cp)
		r.mu.Unlock()
		h(p)
	}
}

func (r *recorder) deliver(m *vrrp.Message, _ vrrp.Result, _ vrrp.IPHeader) {
	cp := *m
	cp.Addresses = append([]netip.Addr(nil), m.Addresses...)
	r.got <- cp
}

func (r *recorder) last() Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets[len(r.packets)-1]
}

func serve(t *testing.T, c *Conn, h Handler) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Serve(h) }()
	t.Cleanup(func() { c.Close(); <-done })
}

func advert(fam vrrp.Family, addrs ...string) *vrrp.Message {
	m := &vrrp.Message{Version: 3, VRID: 51, Priority: 150, Family: fam, Interval: time.Second}
	for _, a := range addrs {
		m.Addresses = append(m.Addresses, netip.MustParseAddr(a))
	}
	return m
}

func waitMsg(t *testing.T, r *recorder) vrrp.Message {
	t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(waitLong):
		t.Fatal("no advert delivered")
	}
	return vrrp.Message{}
}

// TestConnIPv4Wire sends an advert between two namespaces and checks the
// frame a third one sees byte by byte against the codec, and the facts the
// receiver got from the kernel.
func TestConnIPv4Wire(t *testing.T) {
	lan := netnstest.NewLAN(t, 3)
	r1, r2, obs := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	sniff := netnstest.Sniff(t, obs, "eth0")

	tx := listenIn(t, r1, ConnConfig{Family: vrrp.IPv4})
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4})
	if got, want := tx.Source(), r1.V4.Addr(); got != want {
		t.Fatalf("source = %v, want primary %v", got, want)
	}
	rec := newRecorder()
	d := NewDemux(nil)
	cfg := &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.254")}}
	d.Register(51, cfg, rec.deliver)
	serve(t, rx, rec.wrap(d.Handle))
	serve(t, tx, func(*Packet) {})

	m := advert(vrrp.IPv4, "10.77.0.254")
	if err := tx.Send(m, vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	got := waitMsg(t, rec)
	if got.VRID != 51 || got.Priority != 150 {
		t.Fatalf("delivered %+v", got)
	}
	p := rec.last()
	eth0, _ := r2.Interface("eth0")
	if p.IP.TTL != 255 || p.IP.Src != r1.V4.Addr() || p.IP.Dst != vrrp.MulticastIPv4 || p.IfIndex != eth0.Index {
		t.Fatalf("kernel facts = %+v ifindex %d, want TTL 255 src %v dst 224.0.0.18 ifindex %d", p.IP, p.IfIndex, r1.V4.Addr(), eth0.Index)
	}

	want, _ := advert(vrrp.IPv4, "10.77.0.254").Encode(nil, r1.V4.Addr(), vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	f, err := sniff.Next(waitLong, func(f []byte) bool { return netnstest.EtherType(f) == 0x0800 && len(f) > 23 && f[23] == 112 })
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
	// The writer counts after the write returns, possibly after delivery.
	for deadline := time.Now().Add(waitLong); tx.Stats().Sent == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if st := tx.Stats(); st.Sent != 1 || st.SendErrors != 0 {
		t.Errorf("tx stats %+v", st)
	}
}

// TestConnIPv6Wire is TestConnIPv4Wire over IPv6: link-local source, hop
// limit 255, traffic class 0xC0, checksum from the codec.
func TestConnIPv6Wire(t *testing.T) {
	lan := netnstest.NewLAN(t, 3)
	r1, r2, obs := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	sniff := netnstest.Sniff(t, obs, "eth0")
	ll1, err := r1.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	tx := listenIn(t, r1, ConnConfig{Family: vrrp.IPv6})
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv6})
	if tx.Source() != ll1 {
		t.Fatalf("source = %v, want link-local %v", tx.Source(), ll1)
	}
	rec := newRecorder()
	d := NewDemux(func(_ uint8, _ *vrrp.Config, err error) { t.Errorf("dropped: %v", err) })
	d.Register(51, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second}, rec.deliver)
	serve(t, rx, rec.wrap(d.Handle))

	m := advert(vrrp.IPv6, "fe80::51", "fd77::51")
	if err := tx.Send(m, vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, rec)
	p := rec.last()
	if p.IP.TTL != 255 || p.IP.Src != ll1 || p.IP.Dst != vrrp.MulticastIPv6 {
		t.Fatalf("kernel facts = %+v", p.IP)
	}
	want, _ := advert(vrrp.IPv6, "fe80::51", "fd77::51").Encode(nil, ll1, vrrp.MulticastIPv6, vrrp.ChecksumPseudoHeader)
	f, err := sniff.Next(waitLong, func(f []byte) bool { return netnstest.EtherType(f) == 0x86dd && len(f) > 20 && f[20] == 112 })
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

// TestConnTTLDropped injects valid adverts with TTL 64 / hop limit 64 from
// a third namespace: the receiver must see the real value and the Demux
// must drop and count them.
func TestConnTTLDropped(t *testing.T) {
	lan := netnstest.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			rx := listenIn(t, r2, ConnConfig{Family: fam})
			rec := newRecorder()
			drops := make(chan error, 8)
			d := NewDemux(func(_ uint8, _ *vrrp.Config, err error) { drops <- err })
			d.Register(51, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second}, rec.deliver)
			serve(t, rx, rec.wrap(d.Handle))

			// A hand-made sender: the Conn itself cannot send TTL != 255.
			var pc net.PacketConn
			var src, dst netip.Addr
			r1.MustDo(t, func() (err error) {
				if fam == vrrp.IPv4 {
					pc, err = net.ListenPacket("ip4:112", r1.V4.Addr().String())
					if err != nil {
						return err
					}
					src, dst = r1.V4.Addr(), vrrp.MulticastIPv4
					ifi, _ := net.InterfaceByName("eth0")
					p := ipv4.NewPacketConn(pc)
					if err := p.SetMulticastInterface(ifi); err != nil {
						return err
					}
					return p.SetMulticastTTL(64)
				}
				ll, err := r1.LinkLocal("eth0")
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
			defer pc.Close()
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
			select {
			case err := <-drops:
				if !errors.Is(err, vrrp.ErrTTL) {
					t.Fatalf("dropped with %v, want ErrTTL", err)
				}
			case m := <-rec.got:
				t.Fatalf("TTL-64 advert delivered: %+v", m)
			case <-time.After(waitLong):
				t.Fatal("TTL-64 advert neither dropped nor delivered")
			}
			if p := rec.last(); p.IP.TTL != 64 {
				t.Fatalf("kernel TTL = %d, want 64", p.IP.TTL)
			}
			if n := d.Drops()["ttl"]; n != 1 {
				t.Fatalf("ttl drops = %d, want 1", n)
			}
		})
	}
}

// TestConnMulticastJoinOnlyOnInterface checks the group is joined on the
// configured interface only, and that the socket does not see adverts that
// arrive on another interface.
func TestConnMulticastJoinOnlyOnInterface(t *testing.T) {
	lan := netnstest.NewLAN(t, 2)
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

	rec := newRecorder()
	serve(t, rx4, rec.wrap(func(*Packet) {}))
	serve(t, rx6, func(*Packet) {})
	// r1 sends on eth1 (same subnet as nothing r2's eth0 has); make r2 join
	// the group on eth1 with another socket so the packet is accepted there.
	other := listenIn(t, r2, ConnConfig{Interface: "eth1", Family: vrrp.IPv4})
	otherRec := newRecorder()
	serve(t, other, otherRec.wrap(func(*Packet) {}))
	tx := listenIn(t, r1, ConnConfig{Interface: "eth1", Family: vrrp.IPv4})
	if err := tx.Send(advert(vrrp.IPv4, "10.78.0.254"), vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLong)
	for other.Stats().Received == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if other.Stats().Received == 0 {
		t.Fatal("eth1 socket got nothing: the test proves nothing")
	}
	if n := rx4.Stats().Received; n != 0 {
		t.Fatalf("eth0 socket received %d packets sent on eth1", n)
	}
}

// TestConnUnicastPeers: adverts go to each peer, and only configured peers
// are accepted.
func TestConnUnicastPeers(t *testing.T) {
	lan := netnstest.NewLAN(t, 3)
	r1, r2, r3 := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	peer1, peer2 := r1.V4.Addr(), r2.V4.Addr()
	tx1 := listenIn(t, r1, ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{peer2}})
	tx3 := listenIn(t, r3, ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{peer2}})
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4, Peers: []netip.Addr{peer1}})
	rec := newRecorder()
	d := NewDemux(nil)
	d.Register(51, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Peers: []netip.Addr{peer1}}, rec.deliver)
	serve(t, rx, rec.wrap(d.Handle))

	if err := tx3.Send(advert(vrrp.IPv4, "10.77.0.254"), vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Send(advert(vrrp.IPv4, "10.77.0.254"), vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, rec)
	deadline := time.Now().Add(waitLong)
	for rx.Stats().NotPeer == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := rx.Stats()
	if st.NotPeer != 1 || st.Received != 1 {
		t.Fatalf("stats %+v, want 1 from the peer received and 1 from r3 dropped", st)
	}
	p := rec.last()
	if p.IP.Src != peer1 || p.IP.Dst != peer2 {
		t.Fatalf("got %+v", p.IP)
	}
	// The checksum must use the real unicast destination (keepalived ≥ 1.3.6).
	want, _ := advert(vrrp.IPv4, "10.77.0.254").Encode(nil, peer1, peer2, vrrp.ChecksumPseudoHeader)
	if !bytes.Equal(p.Payload, want) {
		t.Fatalf("payload % x, want % x", p.Payload, want)
	}
}

// TestSendNeverBlocks: with the writer stuck (no free buffer), Send drops
// and reports it at once instead of waiting.
func TestSendNeverBlocks(t *testing.T) {
	c := &Conn{fam: vrrp.IPv4, src: netip.MustParseAddr("10.77.0.1"), dsts: []netip.Addr{vrrp.MulticastIPv4}, free: make(chan *sendJob), queue: make(chan *sendJob)}
	if err := c.Send(advert(vrrp.IPv4, "10.77.0.254"), vrrp.ChecksumPseudoHeader); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send = %v, want ErrQueueFull", err)
	}
	if c.Stats().QueueDrops != 1 {
		t.Fatal("drop not counted")
	}
}
