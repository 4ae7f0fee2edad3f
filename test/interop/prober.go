package interop

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
)

// Prober pings one VIP from the host namespace every few milliseconds and
// records every reply with the source MAC that carried it, to measure
// data-plane outages and to see who answered.
//
// Echo requests leave through a raw ICMP socket (the kernel resolves the
// VIP's MAC like any host would, so GARP/NA handling is part of what is
// measured); replies are read from a packet socket on the host's eth0, which
// gives the Ethernet source. Echo replies are informational ICMP, so the
// routers' ICMP rate limits do not apply.
type Prober struct {
	Target netip.Addr
	Every  time.Duration
	host   *lab.Node
	id     uint16

	mu      sync.Mutex
	sent    []time.Time
	replies []reply

	tx   net.PacketConn
	rx   *packet.Conn
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type reply struct {
	at  time.Time
	seq uint16
	mac string
}

// StartProber starts pinging target from host every `every` (1-2 ms is the
// intended rate) until Stop or the end of the test.
func StartProber(t testing.TB, host *lab.Node, target netip.Addr, every time.Duration) *Prober {
	t.Helper()
	p := &Prober{Target: target, Every: every, host: host, id: uint16(os.Getpid()) ^ 0x5a5a, stop: make(chan struct{})}
	host.MustDo(t, func() error {
		var err error
		if target.Is4() {
			p.tx, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		} else {
			p.tx, err = icmp.ListenPacket("ip6:ipv6-icmp", "::")
		}
		if err != nil {
			return err
		}
		// Nothing reads tx: let it queue nothing.
		if target.Is4() {
			var f ipv4.ICMPFilter
			f.SetAll(true)
			_ = p.tx.(*icmp.PacketConn).IPv4PacketConn().SetICMPFilter(&f)
		} else {
			var f ipv6.ICMPFilter
			f.SetAll(true)
			_ = p.tx.(*icmp.PacketConn).IPv6PacketConn().SetICMPFilter(&f)
		}
		ifi, err := net.InterfaceByName(host.IfName)
		if err != nil {
			return err
		}
		proto := unix.ETH_P_IP
		if target.Is6() {
			proto = unix.ETH_P_IPV6
		}
		p.rx, err = packet.Listen(ifi, packet.Raw, proto, nil)
		return err
	})
	p.wg.Add(2)
	go p.receive()
	go p.send()
	t.Cleanup(p.Stop)
	return p
}

func (p *Prober) send() {
	defer p.wg.Done()
	tk := time.NewTicker(p.Every)
	defer tk.Stop()
	dst := &net.IPAddr{IP: p.Target.AsSlice()}
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if p.Target.Is6() {
		typ = ipv6.ICMPTypeEchoRequest
	}
	for seq := uint16(0); ; seq++ {
		select {
		case <-p.stop:
			return
		case <-tk.C:
		}
		m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(p.id), Seq: int(seq), Data: []byte("govrrp-probe")}}
		b, err := m.Marshal(nil) // ICMPv6: the kernel fills the checksum
		if err != nil {
			continue
		}
		now := time.Now()
		if _, err := p.tx.WriteTo(b, dst); err != nil {
			continue // no route or neighbour yet: counts as unanswered
		}
		p.mu.Lock()
		p.sent = append(p.sent, now)
		p.mu.Unlock()
	}
}

func (p *Prober) receive() {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := p.rx.ReadFrom(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if seq, mac, ok := p.parseReply(buf[:n]); ok {
			p.mu.Lock()
			p.replies = append(p.replies, reply{at: now, seq: seq, mac: mac})
			p.mu.Unlock()
		}
	}
}

// parseReply recognises an echo reply to us from the target in an Ethernet
// frame.
func (p *Prober) parseReply(f []byte) (seq uint16, mac string, ok bool) {
	if len(f) < 14 {
		return 0, "", false
	}
	mac = net.HardwareAddr(f[6:12]).String()
	ip := f[14:]
	var src netip.Addr
	var icmpb []byte
	switch binary.BigEndian.Uint16(f[12:14]) {
	case unix.ETH_P_IP:
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 1 {
			return 0, "", false
		}
		ihl := int(ip[0]&0x0f) * 4
		if len(ip) < ihl+8 {
			return 0, "", false
		}
		src = netip.AddrFrom4([4]byte(ip[12:16]))
		icmpb = ip[ihl:]
		if icmpb[0] != 0 { // echo reply
			return 0, "", false
		}
	case unix.ETH_P_IPV6:
		if len(ip) < 48 || ip[0]>>4 != 6 || ip[6] != 58 {
			return 0, "", false
		}
		src = netip.AddrFrom16([16]byte(ip[8:24]))
		icmpb = ip[40:]
		if icmpb[0] != 129 {
			return 0, "", false
		}
	default:
		return 0, "", false
	}
	if src != p.Target || binary.BigEndian.Uint16(icmpb[4:6]) != p.id {
		return 0, "", false
	}
	return binary.BigEndian.Uint16(icmpb[6:8]), mac, true
}

// Stop ends probing; results stay readable.
func (p *Prober) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.rx.Close()
		p.tx.Close()
		p.wg.Wait()
	})
}

// WaitReply waits until a reply arrives that was received after `after`.
func (p *Prober) WaitReply(after time.Time, timeout time.Duration) bool {
	return lab.Poll(timeout, 5*time.Millisecond, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.replies) > 0 && p.replies[len(p.replies)-1].at.After(after)
	})
}

// Outage is the longest stretch without a reply in a window.
type Outage struct {
	Longest    time.Duration
	From, To   time.Time // the stretch
	Sent, Recv int       // requests sent and replies received in the window
	MACs       []string  // replying MACs, in order of first appearance
}

func (o Outage) String() string {
	return fmt.Sprintf("longest outage %v (%s..%s), %d sent, %d answered, answered by %v",
		o.Longest.Round(time.Microsecond), o.From.Format("15:04:05.000"), o.To.Format("15:04:05.000"), o.Sent, o.Recv, o.MACs)
}

// Outage measures the window [from, to]; its edges count, so a window with
// no reply at all is one outage of its whole length.
func (p *Prober) Outage(from, to time.Time) Outage {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := Outage{}
	for _, s := range p.sent {
		if !s.Before(from) && !s.After(to) {
			o.Sent++
		}
	}
	prev := from
	seen := map[string]bool{}
	consider := func(at time.Time) {
		if d := at.Sub(prev); d > o.Longest {
			o.Longest, o.From, o.To = d, prev, at
		}
		prev = at
	}
	for _, r := range p.replies {
		if r.at.Before(from) || r.at.After(to) {
			continue
		}
		o.Recv++
		if !seen[r.mac] {
			seen[r.mac] = true
			o.MACs = append(o.MACs, r.mac)
		}
		consider(r.at)
	}
	consider(to)
	return o
}

// LastMAC is the source MAC of the latest reply, "" before any.
func (p *Prober) LastMAC() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.replies) == 0 {
		return ""
	}
	return p.replies[len(p.replies)-1].mac
}

// Summary describes the whole run: totals, the MAC changes and the host's
// neighbour entry for the VIP.
func (p *Prober) Summary() string {
	p.mu.Lock()
	var b strings.Builder
	start, end := time.Now(), time.Now()
	if len(p.sent) > 0 {
		start, end = p.sent[0], p.sent[len(p.sent)-1]
	}
	last := ""
	for _, r := range p.replies {
		if r.mac != last {
			fmt.Fprintf(&b, "  %s replies from %s (seq %d)\n", r.at.Format("15:04:05.000"), r.mac, r.seq)
			last = r.mac
		}
	}
	p.mu.Unlock()
	o := p.Outage(start, end)
	neigh, err := p.host.IP("neigh", "show", p.Target.String())
	if err != nil {
		neigh = err.Error()
	}
	return fmt.Sprintf("prober %v every %v: %v\n%s  neighbour: %s", p.Target, p.Every, o, b.String(), strings.TrimSpace(neigh))
}
