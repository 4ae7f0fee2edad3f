package linux

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/bfd"
	"govrrp/internal/lab"
)

// readBFD polls l until n packets came or waitLong passed: the first
// packet to a new neighbour waits for ARP/ND, and a lost first solicitation
// is only retried after a second.
func readBFD(t *testing.T, l *BFDListener, n int) []BFDPacket {
	t.Helper()
	var got []BFDPacket
	pkts := make([]BFDPacket, 8)
	deadline := time.Now().Add(waitLong)
	for len(got) < n && time.Now().Before(deadline) {
		k, _, err := l.ReadBatch(pkts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts[:k] {
			p.Payload = append([]byte(nil), p.Payload...)
			got = append(got, p)
		}
		if k == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return got
}

// [5881-4] [5881-5] A session's packets leave from a fixed source port in
// 49152–65535 with TTL / hop limit 255 and reach the peer's listener with
// their source, TTL and arrival time, over IPv4, IPv6 global and IPv6
// link-local; a packet with TTL 254 is dropped and counted (GTSM).
func TestBFDSockets(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	a, b := lan.Nodes[0], lan.Nodes[1]
	llA, err := a.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	llB, err := b.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		local, peer netip.Addr
	}{
		{"ipv4", a.V4.Addr(), b.V4.Addr()},
		{"ipv6", a.V6.Addr(), b.V6.Addr()},
		{"ipv6 link-local", llA, llB},
	} {
		t.Run(c.name, func(t *testing.T) {
			v6 := c.peer.Is6()
			var l *BFDListener
			b.MustDo(t, func() (err error) { l, err = ListenBFD("eth0", v6); return err })
			defer l.Close()
			var s *BFDSender
			a.MustDo(t, func() (err error) { s, err = DialBFD("eth0", c.local, c.peer); return err })
			defer s.Close()
			if p := s.SourcePort(); p < bfd.MinSourcePort || p > bfd.MaxSourcePort {
				t.Fatalf("source port %d", p)
			}
			// CS6 (the kernel puts the socket's TOS / traffic class on
			// every packet).
			lvl, opt := unix.IPPROTO_IP, unix.IP_TOS
			if v6 {
				lvl, opt = unix.IPPROTO_IPV6, unix.IPV6_TCLASS
			}
			if tos, err := unix.GetsockoptInt(s.fd, lvl, opt); err != nil || tos != bfd.TOS {
				t.Fatalf("TOS %#x, %v", tos, err)
			}
			var buf [bfd.HeaderLen]byte
			(&bfd.Packet{State: bfd.Down, DetectMult: 3, MyDiscr: 7, DesiredMinTx: 1e6, RequiredMinRx: 1e6}).Encode(buf[:])
			if err := s.Send(buf[:]); err != nil {
				t.Fatal(err)
			}
			got := readBFD(t, l, 1)
			if len(got) != 1 {
				t.Fatalf("received %d packets", len(got))
			}
			p := got[0]
			if p.Src != c.local || p.TTL != 255 || p.Arrival.IsZero() || string(p.Payload) != string(buf[:]) {
				t.Fatalf("received %+v", p)
			}

			// TTL 254 (a packet from one hop further), then 255 from the
			// same socket: only the second arrives.
			buf[4] = 0xee
			a.MustDo(t, func() error { return sendTTL(c.local, c.peer, 254, buf[:]) })
			buf[4] = 0
			a.MustDo(t, func() error { return sendTTL(c.local, c.peer, 255, buf[:]) })
			if got := readBFD(t, l, 1); len(got) != 1 || got[0].Payload[4] != 0 {
				t.Fatalf("after TTL 254 and 255: %+v", got)
			}
			if st := l.Stats(); st.TTLDrops != 1 || st.Received != 2 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// sendTTL sends b to peer:3784 with the given TTL / hop limit from a
// throw-away socket bound to eth0.
func sendTTL(local, peer netip.Addr, ttl int, b []byte) error {
	fd, err := bfdSocket("eth0", peer.Is6())
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if peer.Is6() {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl)
	} else {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl)
	}
	if err != nil {
		return err
	}
	ifi, err := net.InterfaceByName("eth0")
	if err != nil {
		return err
	}
	zone := uint32(ifi.Index)
	if err := unix.Bind(fd, sockaddr(local, 0, peer.Is6(), zone)); err != nil {
		return err
	}
	return unix.Sendto(fd, b, 0, sockaddr(peer, bfd.Port, peer.Is6(), zone))
}

// Sending and receiving a control packet costs no allocation.
func TestBFDHotPathAllocs(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	a := lan.Nodes[0]
	var l *BFDListener
	var s *BFDSender
	a.MustDo(t, func() (err error) {
		if l, err = ListenBFD("eth0", false); err != nil {
			return err
		}
		s, err = DialBFD("eth0", a.V4.Addr(), a.V4.Addr())
		return err
	})
	defer l.Close()
	defer s.Close()
	var buf [bfd.HeaderLen]byte
	(&bfd.Packet{State: bfd.Up, DetectMult: 3, MyDiscr: 7, YourDiscr: 8}).Encode(buf[:])
	pkts := make([]BFDPacket, 4)
	var lost int
	if n := testing.AllocsPerRun(200, func() {
		_ = s.Send(buf[:])
		if k, _, _ := l.ReadBatch(pkts); k == 0 {
			lost++
		}
	}); n != 0 {
		t.Fatalf("%v allocations per packet sent and received", n)
	}
	if lost > 10 {
		t.Fatalf("%d of 201 packets not read back at once over loopback", lost)
	}
}

// The IPv4 TTL of a UDP socket (IP_RECVTTL) is read like IPv6's hop limit.
func TestParseCmsgsIPv4TTL(t *testing.T) {
	var f cmsgFacts
	parseCmsgs(cmsg(nil, unix.IPPROTO_IP, unix.IP_TTL, binary.NativeEndian.AppendUint32(nil, 254)), &f)
	if f.hops != 254 {
		t.Fatalf("parsed %+v", f)
	}
}
