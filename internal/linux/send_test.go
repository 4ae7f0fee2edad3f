package linux

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// TestSenderMatchesXNet: the hand-built control message is byte for byte
// the one x/net built for WriteTo, and the sockaddr carries the same
// address and (numeric) scope.
func TestSenderMatchesXNet(t *testing.T) {
	const ifindex = 7
	src4, src6 := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("fe80::1")

	s4 := newSender(vrrp.IPv4, ifindex)
	s4.setSource(src4)
	want4 := (&ipv4.ControlMessage{Src: src4.AsSlice(), IfIndex: ifindex}).Marshal()
	if !bytes.Equal(s4.oob, want4) {
		t.Errorf("IPv4 pktinfo % x\nx/net           % x", s4.oob, want4)
	}
	for _, dst := range []netip.Addr{vrrp.MulticastIPv4, netip.MustParseAddr("10.77.0.2")} {
		s4.setDest(dst)
		if sa, ok := s4.to.(*unix.SockaddrInet4); !ok || sa.Addr != dst.As4() || sa.Port != 0 || s4.bad {
			t.Errorf("IPv4 sockaddr for %v: %+v", dst, s4.to)
		}
	}
	s4.setDest(src6)
	if !s4.bad {
		t.Error("IPv6 destination accepted on an IPv4 socket")
	}

	s6 := newSender(vrrp.IPv6, ifindex)
	s6.setSource(src6)
	want6 := (&ipv6.ControlMessage{Src: src6.AsSlice(), IfIndex: ifindex}).Marshal()
	if !bytes.Equal(s6.oob, want6) {
		t.Errorf("IPv6 pktinfo % x\nx/net           % x", s6.oob, want6)
	}
	for _, c := range []struct {
		dst  netip.Addr
		zone uint32
	}{{vrrp.MulticastIPv6, ifindex}, {netip.MustParseAddr("fe80::2"), ifindex}, {netip.MustParseAddr("fd77::2"), 0}} {
		s6.setDest(c.dst)
		if sa, ok := s6.to.(*unix.SockaddrInet6); !ok || sa.Addr != c.dst.As16() || sa.ZoneId != c.zone || sa.Port != 0 || s6.bad {
			t.Errorf("IPv6 sockaddr for %v: %+v, want scope %d", c.dst, s6.to, c.zone)
		}
	}
	// A source of the wrong family leaves the choice to the kernel, as
	// x/net did (it only copied addresses of the socket's family).
	s6.setSource(src4)
	if want := (&ipv6.ControlMessage{Src: src4.AsSlice(), IfIndex: ifindex}).Marshal(); !bytes.Equal(s6.oob, want) {
		t.Errorf("IPv6 pktinfo with IPv4 source % x, x/net % x", s6.oob, want)
	}
}

// fakeConn is a Conn without a socket: Queue encodes into its batch, and
// the test empties the batch instead of flushing it.
func fakeConn(fam vrrp.Family, src netip.Addr, dsts ...netip.Addr) *Conn {
	return &Conn{fam: fam, src: src, dsts: dsts, tx: newTxBatch(fam, 3)}
}

func (c *Conn) drainFake() { c.tx.n = 0 }

// TestSendAllocs: Queue encodes into the batch slot's buffer and sets the
// slot's pktinfo and destination, and the sender's per-packet bookkeeping
// (source, destination) allocates nothing. TestSendPathAllocs checks the
// real write.
func TestSendAllocs(t *testing.T) {
	c := fakeConn(vrrp.IPv4, netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2"), netip.MustParseAddr("10.77.0.3"))
	m := advert(vrrp.IPv4, "10.77.0.254", "10.77.0.253")
	if n := testing.AllocsPerRun(100, func() {
		if err := c.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
			panic(err)
		}
		if c.Queued() != 2 {
			panic("not queued")
		}
		c.drainFake()
	}); n != 0 {
		t.Errorf("Queue: %v allocations per advert", n)
	}
	s := newSender(vrrp.IPv6, 3)
	a, b := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
	if n := testing.AllocsPerRun(100, func() {
		s.setSource(a)
		s.setDest(b)
		s.setSource(b)
		s.setDest(vrrp.MulticastIPv6)
	}); n != 0 {
		t.Errorf("sender: %v allocations per address change", n)
	}
}

// sendMallocs sends n adverts through c, each with Queue and Flush as the
// event loop does, and returns the heap allocations of the whole process
// meanwhile (runtime.MemStats.Mallocs: testing.AllocsPerRun rounds down to
// whole allocations per run, which would hide up to one per advert).
func sendMallocs(t *testing.T, c *Conn, m *vrrp.Message, n int) uint64 {
	t.Helper()
	per := uint64(len(c.dsts))
	before := c.Stats()
	var sendErr error
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for range n {
		if sendErr = c.Queue(m, vrrp.ChecksumPseudoHeader); sendErr != nil {
			break
		}
		if sendErr = c.Flush(); sendErr != nil {
			break
		}
	}
	runtime.ReadMemStats(&ms1)
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	if st := c.Stats(); st.Sent-before.Sent != uint64(n)*per || st.SendErrors != 0 || st.QueueDrops != 0 {
		t.Fatalf("after %d adverts to %d destinations: stats %+v", n, per, st)
	}
	return ms1.Mallocs - ms0.Mallocs
}

// TestSendPathAllocs: in steady state an advert costs no allocation from
// Queue to the sendmmsg of every copy, over IPv4, IPv6 and unicast to two
// peers [benchmark issue: zero allocations per advert sent].
//
// The count is process-wide, so a stray allocation elsewhere (the runtime,
// the test framework) must not fail the test, while one per advert must:
// the best of three runs of 1000 adverts may allocate at most 10 times in
// all (0.01 per advert; one allocation per advert would be 1000).
func TestSendPathAllocs(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	r1 := lan.Nodes[0]
	peers := []netip.Addr{lan.Nodes[1].V4.Addr(), lan.Nodes[2].V4.Addr()}
	cases := []struct {
		name string
		cfg  ConnConfig
		m    *vrrp.Message
	}{
		{"IPv4", ConnConfig{Family: vrrp.IPv4}, advert(vrrp.IPv4, "10.77.0.254")},
		{"IPv6", ConnConfig{Family: vrrp.IPv6}, advert(vrrp.IPv6, "fe80::51", "fd77::51")},
		{"IPv4-unicast", ConnConfig{Family: vrrp.IPv4, Peers: peers}, advert(vrrp.IPv4, "10.77.0.254")},
	}
	const n, runs = 1000, 3
	const budget = n / 100
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := listenIn(t, r1, c.cfg)
			sendMallocs(t, tx, c.m, 100) // warm up: lazily built runtime state
			best := uint64(1 << 63)
			for range runs {
				best = min(best, sendMallocs(t, tx, c.m, n))
				if best <= budget {
					break
				}
			}
			if best > budget {
				t.Fatalf("%d allocations for %d adverts (%.3f per advert), want at most %d in all", best, n, float64(best)/n, budget)
			}
		})
	}
}

// BenchmarkSend: encoding an advert into a batch slot with Queue (no
// socket).
func BenchmarkSend(b *testing.B) {
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		b.Run(fam.String(), func(b *testing.B) {
			src, dst, vip := netip.MustParseAddr("10.77.0.1"), vrrp.MulticastIPv4, "10.77.0.254"
			if fam == vrrp.IPv6 {
				src, dst, vip = netip.MustParseAddr("fe80::1"), vrrp.MulticastIPv6, "fe80::51"
			}
			c := fakeConn(fam, src, dst)
			m := advert(fam, vip)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
					b.Fatal(err)
				}
				c.drainFake()
			}
		})
	}
}

// BenchmarkReceiveChecks: the receive path after recvmmsg, without a
// socket: parsing the datagram and control messages the kernel handed
// over, then every receive check, as the event loop runs them. 0 allocs/op.
func BenchmarkReceiveChecks(b *testing.B) {
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		for _, naddr := range []int{1, 16} {
			b.Run(fmt.Sprintf("%v-%daddr", fam, naddr), func(b *testing.B) {
				src, dst := netip.MustParseAddr("10.77.0.1"), vrrp.MulticastIPv4
				if fam == vrrp.IPv6 {
					src, dst = netip.MustParseAddr("fe80::1"), vrrp.MulticastIPv6
				}
				var vips []string
				for i := range naddr {
					if fam == vrrp.IPv6 {
						vips = append(vips, fmt.Sprintf("fd77::%x", i+1))
					} else {
						vips = append(vips, fmt.Sprintf("10.77.1.%d", i+1))
					}
				}
				m := advert(fam, vips...)
				buf, err := m.Encode(nil, src, dst, vrrp.ChecksumPseudoHeader)
				if err != nil {
					b.Fatal(err)
				}
				d := loadDatagram(fam, src, dst, 255, buf, time.Now())
				v := newChecker(&vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: m.Addresses})
				var p Packet
				var f cmsgFacts
				b.ReportAllocs()
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					if !parseDatagram(fam, d.b, &d.name, d.oob, &p, &f) {
						b.Fatal("parse")
					}
					if err := v.check(&p); err != nil {
						b.Fatal(err)
					}
				}
				if v.msg.VRID != 51 || len(v.msg.Addresses) != naddr {
					b.Fatalf("checked %+v", v.msg)
				}
			})
		}
	}
}

// BenchmarkAdvertRoundTrip is the full per-advert path between two network
// namespaces, as the event loops run it: Queue and Flush (sendmmsg) on
// router 1's Conn, the kernel and router 2's kernel filter, the Poller's
// wake-up on router 2's Conn, ReadBatch (recvmmsg) and every receive check,
// one advert in flight at a time. allocs/op counts the whole process and
// must be 0. Needs root.
func BenchmarkAdvertRoundTrip(b *testing.B) {
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		b.Run(fam.String(), func(b *testing.B) {
			lan := lab.NewLAN(b, 2)
			r1, r2 := lan.Nodes[0], lan.Nodes[1]
			open := func(nd *lab.Node) *Conn {
				var c *Conn
				nd.MustDo(b, func() (err error) {
					c, err = Listen(ConnConfig{Interface: "eth0", Family: fam, Netlink: nd.Handle})
					return err
				})
				b.Cleanup(func() { c.Close() })
				return c
			}
			tx, rx := open(r1), open(r2)
			setFilter(b, rx, []uint8{51}, nil)
			poll, err := NewPoller()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { poll.Close() })
			for _, fd := range rx.Fds() {
				if err := poll.Add(fd); err != nil {
					b.Fatal(err)
				}
			}
			vip := "10.77.0.254"
			if fam == vrrp.IPv6 {
				vip = "fe80::51"
			}
			m := advert(fam, vip)
			v := newChecker(&vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: m.Addresses})
			pkts := make([]Packet, 8)

			roundTrip := func() {
				if err := tx.Queue(m, vrrp.ChecksumPseudoHeader); err != nil {
					b.Fatal(err)
				}
				if err := tx.Flush(); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for {
					if err := poll.Wait(waitLong); err != nil {
						b.Fatal(err)
					}
					n, _, err := rx.ReadBatch(pkts)
					if err != nil {
						b.Fatal(err)
					}
					for i := range n {
						if pkts[i].Rejected {
							b.Fatalf("advert went to the reject socket: %+v", pkts[i].IP)
						}
						if err := v.check(&pkts[i]); err != nil {
							b.Fatal(err)
						}
					}
					if n > 0 {
						return
					}
					if time.Since(start) > waitLong {
						b.Fatalf("advert lost: tx %+v rx %+v", tx.Stats(), rx.Stats())
					}
				}
			}
			for range 100 { // warm up outside the measurement
				roundTrip()
			}
			b.ReportAllocs()
			b.SetBytes(int64(m.Len()))
			for b.Loop() {
				roundTrip()
			}
		})
	}
}
