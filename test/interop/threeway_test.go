package interop

import (
	"errors"
	"net"
	"net/netip"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"govrrp/internal/lab"
	"govrrp/internal/pcapfile"
	"govrrp/vrrp"
)

// govrrp, keepalived and FRR on one VRRPv3 IPv4 virtual router, all with
// the VMAC. They converge on the highest priority; each in turn is made the
// master (by a priority change) and failed, and the next highest takes over
// and gives back.
//
// All use the VMAC because FRR 8.4 neither leaves Master on eth0 down nor
// re-announces when it finds itself Master again after a split (cable pull,
// eth0 down/up): with physical MACs the host would keep the interim
// master's MAC until its ARP entry times out.
func TestThreeWay(t *testing.T) {
	l := NewLab(t, 3)
	k := VRKey{51, IPv4}
	v := func(p uint8) VR { v := vr3(IPv4, p); v.VMAC = true; return v }
	g := NewGovrrp(t, l.Routers[0], l.Dir, v(200))
	ka := NewKeepalived(t, l.Routers[1], l.Dir, v(150))
	fr := NewFRR(t, l.Routers[2], l.Dir, v(100))
	for _, p := range []Peer{fr, ka, g} {
		l.Start(t, p)
	}
	l.WaitMaster(t, g, k, converge)
	pr := probeVIP(t, l, g.VRs()[0])

	// govrrp (200) fails: keepalived (150) takes over.
	failover(t, l, cablePull, g, ka, g.VRs()[0], pr)

	// FRR raised to 250 preempts; it fails: govrrp (200) takes over.
	fr.SetPriority(t, 51, 250)
	l.WaitMaster(t, fr, k, takeover)
	answeredBy(t, l, pr, fr, fr.VRs()[0], "FRR raised to 250")
	failover(t, l, linkDown, fr, g, fr.VRs()[0], pr)

	// keepalived raised to 254 preempts; SIGKILL: FRR (250) takes over;
	// keepalived restarts and preempts.
	ka.SetPriority(t, 51, 254)
	l.WaitMaster(t, ka, k, takeover)
	answeredBy(t, l, pr, ka, ka.VRs()[0], "keepalived raised to 254")
	failover(t, l, sigkill, ka, fr, ka.VRs()[0], pr)

	// And a clean stop of the master: priority 0, FRR takes over.
	ka.Stop(t)
	l.WaitMaster(t, fr, k, takeover)
	checkClean(t, l, cleanOpts{})
}

// plainSender sends generated VRRPv3 IPv4 adverts in the RFC 9568 plain
// checksum form from a raw socket in another router's namespace, as a Cisco
// or Juniper router would.
type plainSender struct {
	conn *ipv4.PacketConn
	src  netip.Addr
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	sent int
}

func startPlainSender(t *testing.T, l *Lab, from int, m vrrp.Message, corrupt bool) *plainSender {
	t.Helper()
	nd := l.Routers[from]
	s := &plainSender{src: nd.V4.Addr(), stop: make(chan struct{})}
	nd.MustDo(t, func() error {
		c, err := net.ListenPacket("ip4:112", s.src.String())
		if err != nil {
			return err
		}
		s.conn = ipv4.NewPacketConn(c)
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		return errors.Join(s.conn.SetMulticastTTL(255), s.conn.SetMulticastInterface(ifi), s.conn.SetMulticastLoopback(false))
	})
	dst := netip.MustParseAddr("224.0.0.18")
	b, err := m.Encode(nil, s.src, dst, vrrp.ChecksumPlain)
	if err != nil {
		t.Fatal(err)
	}
	if form, err := vrrp.VerifyChecksum(b, 3, vrrp.IPv4, s.src, dst, vrrp.ChecksumPseudoHeader); err != nil || form != vrrp.ChecksumPlain {
		t.Fatalf("generated advert: checksum form %v, %v; want plain", form, err)
	}
	if corrupt {
		b[6] ^= 0x55
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tk := time.NewTicker(m.Interval)
		defer tk.Stop()
		for {
			if _, err := s.conn.WriteTo(b, nil, &net.IPAddr{IP: dst.AsSlice()}); err == nil {
				s.mu.Lock()
				s.sent++
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(s.Stop)
	return s
}

// Sent is how many adverts left so far.
func (s *plainSender) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *plainSender) Stop() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	s.wg.Wait()
	s.conn.Close()
}

// wireForms returns, per advert source, the checksum forms seen on the wire
// for VRRPv3 IPv4 adverts of vrid with priority > 0.
func wireForms(t *testing.T, l *Lab, vrid uint8) map[netip.Addr]map[vrrp.ChecksumForm]int {
	t.Helper()
	pkts, err := pcapfile.ReadFile(l.Cap.Path)
	if err != nil && !errors.Is(err, pcapfile.ErrTruncatedFile) {
		t.Fatal(err)
	}
	out := map[netip.Addr]map[vrrp.ChecksumForm]int{}
	for _, p := range pkts {
		if p.Protocol != 112 || p.IPVersion != 4 || len(p.Payload) < 8 || p.Payload[0]>>4 != 3 || p.Payload[1] != vrid || p.Payload[2] == 0 {
			continue
		}
		form, err := vrrp.VerifyChecksum(p.Payload, 3, vrrp.IPv4, p.Src, p.Dst, vrrp.ChecksumPseudoHeader)
		if err != nil {
			t.Errorf("advert from %v at %s: %v", p.Src, p.Time.Format("15:04:05.000"), err)
			continue
		}
		if out[p.Src] == nil {
			out[p.Src] = map[vrrp.ChecksumForm]int{}
		}
		out[p.Src][form]++
	}
	return out
}

// The two VRRPv3 IPv4 checksum forms (spec §4): govrrp accepts the plain
// (RFC 9568) form from a generated sender and the pseudo-header form from
// keepalived and FRR (TestMixed* assert no checksum discards), and sends
// the form it is configured with. keepalived 2.2.7 has no
// v3_checksum_as_v2 keyword (nor FRR 8.4 a "no checksum-with-ipv4-
// pseudoheader"): it refuses the plain form, which also proves the log
// check of the mixed tests catches checksum complaints.
func TestChecksumForms(t *testing.T) {
	k := VRKey{51, IPv4}
	plainVR := vr3(IPv4, 200)
	plainVR.PlainChecksum = true
	t.Run("receive-plain", func(t *testing.T) {
		l := NewLab(t, 2)
		m := vrrp.Message{Version: 3, Type: vrrp.TypeAdvertisement, VRID: 51, Family: vrrp.IPv4, Priority: 200,
			Interval: interval, Addresses: []netip.Addr{vip4.Addr()}}
		s := startPlainSender(t, l, 1, m, false)
		g := NewGovrrp(t, l.Routers[0], l.Dir, vr3(IPv4, 100))
		l.Start(t, g)
		l.WaitState(t, g, k, Backup, takeover)
		// Master_Down_Interval passes many times: the plain adverts keep
		// it Backup.
		l.StaysMaster(t, nil, k, 10*vr3(IPv4, 100).MasterDown(100))
		d, err := g.Detail(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("govrrp: %s, master %s (prio %d), counters %v, discards %v", d.State, d.Master, d.MasterPriority, d.Counters, d.Discards)
		if d.Master != s.src.String() || d.MasterPriority != 200 {
			t.Errorf("govrrp's master is %s (prio %d), want the plain sender %v (200)", d.Master, d.MasterPriority, s.src)
		}
		if d.Counters["rx_checksum_plain"] == 0 {
			t.Errorf("rx_checksum_plain is 0 after %d plain adverts", s.Sent())
		}
		checkClean(t, l, cleanOpts{})

		// A broken checksum is dropped and counted: the sender is gone
		// for govrrp, which takes over.
		s.Stop()
		bad := startPlainSender(t, l, 1, m, true)
		l.WaitState(t, g, k, Master, takeover)
		if !lab.Poll(takeover, 20*time.Millisecond, func() bool { d, _ = g.Detail(k); return d.Discards["checksum"] > 0 }) {
			t.Errorf("no checksum discard after %d corrupted adverts: %v", bad.Sent(), d.Discards)
		}
	})
	t.Run("send-plain", func(t *testing.T) {
		l := NewLab(t, 2)
		plain := NewGovrrp(t, l.Routers[0], l.Dir, plainVR)
		pseudo := NewGovrrp(t, l.Routers[1], l.Dir, vr3(IPv4, 100))
		l.Start(t, pseudo)
		l.WaitMaster(t, pseudo, k, converge)
		l.Start(t, plain)
		l.WaitMaster(t, plain, k, converge)
		forms := wireForms(t, l, 51)
		t.Logf("checksum forms on the wire: %v", forms)
		if f := forms[l.Source(t, plain, k)]; f[vrrp.ChecksumPlain] == 0 || f[vrrp.ChecksumPseudoHeader] != 0 {
			t.Errorf("checksum: plain router sent %v, want only plain", f)
		}
		if f := forms[l.Source(t, pseudo, k)]; f[vrrp.ChecksumPseudoHeader] == 0 || f[vrrp.ChecksumPlain] != 0 {
			t.Errorf("default router sent %v, want only pseudo-header", f)
		}
		for _, c := range []struct {
			g    *Govrrp
			form string
		}{{pseudo, "rx_checksum_plain"}, {plain, "rx_checksum_pseudo_header"}} {
			d, err := c.g.Detail(k)
			if err != nil {
				t.Fatal(err)
			}
			if d.Counters[c.form] == 0 {
				t.Errorf("%s: %s is 0: %v", c.g.Name(), c.form, d.Counters)
			}
		}
		checkClean(t, l, cleanOpts{})
	})
	t.Run("keepalived-2.2.7-refuses-plain", func(t *testing.T) {
		l, g, ka := pairLab(t, NewGovrrp, plainVR, NewKeepalived, vr3(IPv4, 100))
		l.WaitState(t, g, k, Master, converge)
		refused := regexp.MustCompile(`Invalid VRRPv3 checksum`)
		if !lab.Poll(takeover, 50*time.Millisecond, func() bool { return refused.MatchString(ka.Logs()) }) {
			t.Fatalf("keepalived 2.2.7 accepted plain-form adverts (no %q in its log)", refused)
		}
		if bad := matchingLines(ka.Logs(), keepalivedProtoErr, nil); bad == "" {
			t.Errorf("the mixed tests' keepalived log check does not catch %q", refused)
		}
		// Both think they are Master: the reason to configure the form.
		l.WaitState(t, ka, k, Master, takeover)
	})
}
