// Package probe is the lab's one ICMP prober: a host pings one or more
// addresses every few milliseconds and keeps, for each, when every echo
// request left and when and from which MAC every reply came back. `make
// demo`, `make bench`, `make chaos` and the interop tests measure the
// data-plane outage of a failover with it, by one definition, LongestGap:
//
// The outage is the longest time between two consecutive echo replies: from
// the last reply before the failure to the first reply after it (or to the
// end of the window, not recovered, when none came).
//
// It is what the host saw, not counted from the moment the test caused the
// failure: a master stopped by SIGTERM goes on answering until it removes its
// address, and a host never knows when a cable was pulled. Its resolution is
// the probe interval I: the path broke after the last answered request was
// sent and came back before the first answered one after it was, so the
// figure overstates the real interruption by less than 2·I (plus the
// difference of the two round trips, microseconds on a lab's veths). A
// window without a lost echo reads about I, never 0.
//
// Requests leave through a raw ICMP socket, so the kernel resolves the
// target's MAC as any host would and ARP/ND after a takeover is part of what
// is measured. Replies are read from a packet socket on the host's interface,
// which gives the Ethernet source: who answered. Echo replies are
// informational ICMP, so the routers' ICMP rate limits do not apply.
package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Host is where the echoes leave from. The prober knows nothing else of the
// lab's namespaces.
type Host struct {
	Do     func(fn func() error) error // runs fn inside the host's network namespace
	IfName string                      // the interface the replies arrive on ("eth0")
}

// Prober pings its targets every Every until Stop.
type Prober struct {
	Every   time.Duration
	Targets []*Target // in the order given to Start

	id   uint16
	tx   [2]*icmp.PacketConn // per family (IPv4, IPv6): sends; nil without a target of it
	rx   [2]*packet.Conn     // per family: receives the replies with their Ethernet header
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// Target is one address the host pings, with everything it has heard.
type Target struct {
	Addr  netip.Addr
	Every time.Duration

	mu       sync.Mutex
	sent     []time.Time // request n left at sent[n]; its sequence number is n mod 2^16
	answered []bool      // by request
	recv     int         // requests answered
	replies  []Reply     // in arrival order
	wake     chan struct{}
}

// Reply is one echo reply.
type Reply struct {
	At  time.Time
	Seq uint16
	MAC string // Ethernet source
	Dup bool   // another reply to a request already answered
}

var idSeq atomic.Uint32

// Start opens the sockets inside the host's namespace and starts pinging
// every `every`; 1-3 ms is the intended rate.
func Start(h Host, every time.Duration, targets ...netip.Addr) (*Prober, error) {
	if every <= 0 || len(targets) == 0 {
		return nil, fmt.Errorf("probe: want an interval > 0 and a target, have %v and %v", every, targets)
	}
	// Distinct per prober, so two probers of one process never count each
	// other's replies.
	p := &Prober{Every: every, id: uint16(os.Getpid()) ^ uint16(idSeq.Add(1)*0x9e37), stop: make(chan struct{})}
	for _, a := range targets {
		p.Targets = append(p.Targets, &Target{Addr: a.Unmap(), Every: every, wake: make(chan struct{})})
	}
	err := h.Do(func() error {
		ifi, err := net.InterfaceByName(h.IfName)
		if err != nil {
			return err
		}
		for _, t := range p.Targets {
			if f := family(t.Addr); p.tx[f] == nil {
				if p.tx[f], p.rx[f], err = open(ifi, f); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		p.close()
		return nil, fmt.Errorf("probe from %s: %w", h.IfName, err)
	}
	for f := range p.rx {
		if p.rx[f] != nil {
			p.wg.Add(1)
			go p.receive(f)
		}
	}
	p.wg.Add(1)
	go p.send()
	return p, nil
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// Only echo replies reach the packet socket (the parser checks again).
var (
	filter4 = mustAssemble(
		bpf.LoadAbsolute{Off: 14 + 9, Size: 1}, // IPv4 protocol
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.IPPROTO_ICMP, SkipTrue: 3},
		bpf.LoadMemShift{Off: 14},                            // X = header length
		bpf.LoadIndirect{Off: 14, Size: 1},                   // ICMP type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipTrue: 1}, // echo reply
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 1 << 16},
	)
	filter6 = mustAssemble(
		bpf.LoadAbsolute{Off: 14 + 6, Size: 1}, // next header (no extension headers)
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.IPPROTO_ICMPV6, SkipTrue: 2},
		bpf.LoadAbsolute{Off: 14 + 40, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv6.ICMPTypeEchoReply), SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 1 << 16},
	)
)

func mustAssemble(in ...bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(in)
	if err != nil {
		panic(err)
	}
	return raw
}

// open makes one family's sockets: a raw ICMP socket that only sends (its
// ICMP filter lets nothing queue) and a packet socket for the replies.
func open(ifi *net.Interface, f int) (*icmp.PacketConn, *packet.Conn, error) {
	var tx *icmp.PacketConn
	var err error
	if f == 0 {
		if tx, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0"); err == nil {
			var fl ipv4.ICMPFilter
			fl.SetAll(true)
			err = tx.IPv4PacketConn().SetICMPFilter(&fl)
		}
	} else {
		if tx, err = icmp.ListenPacket("ip6:ipv6-icmp", "::"); err == nil {
			var fl ipv6.ICMPFilter
			fl.SetAll(true)
			err = tx.IPv6PacketConn().SetICMPFilter(&fl)
		}
	}
	if err != nil {
		if tx != nil {
			tx.Close()
		}
		return nil, nil, err
	}
	proto, filter := unix.ETH_P_IP, filter4
	if f == 1 {
		proto, filter = unix.ETH_P_IPV6, filter6
	}
	rx, err := packet.Listen(ifi, packet.Raw, proto, &packet.Config{Filter: filter})
	if err != nil {
		tx.Close()
		return nil, nil, err
	}
	return tx, rx, nil
}

func (p *Prober) close() {
	for f := range p.tx {
		if p.tx[f] != nil {
			p.tx[f].Close()
		}
		if p.rx[f] != nil {
			p.rx[f].Close()
		}
	}
}

// Stop ends the probing and closes the sockets; what was heard stays
// readable. Calling it again does nothing.
func (p *Prober) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.close()
		p.wg.Wait()
	})
}

func (p *Prober) send() {
	defer p.wg.Done()
	tk := time.NewTicker(p.Every)
	defer tk.Stop()
	payload := []byte("govrrp-probe")
	for n := 0; ; n++ {
		select {
		case <-p.stop:
			return
		case <-tk.C:
		}
		for _, t := range p.Targets {
			m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: int(p.id), Seq: int(uint16(n)), Data: payload}}
			if t.Addr.Is6() {
				m.Type = ipv6.ICMPTypeEchoRequest // the kernel fills the checksum
			}
			b, err := m.Marshal(nil)
			if err != nil {
				continue
			}
			t.mu.Lock()
			t.sent = append(t.sent, time.Now())
			t.answered = append(t.answered, false)
			t.mu.Unlock()
			// A request the kernel refuses (no neighbour yet, say) is one
			// not answered, like any other.
			_, _ = p.tx[family(t.Addr)].WriteTo(b, &net.IPAddr{IP: t.Addr.AsSlice()})
		}
	}
}

func (p *Prober) receive(f int) {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := p.rx[f].ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-p.stop:
				return
			default:
				continue
			}
		}
		now := time.Now()
		src, seq, mac, ok := parseReply(buf[:n], p.id)
		if !ok {
			continue
		}
		for _, t := range p.Targets {
			if t.Addr == src {
				t.record(now, seq, mac)
			}
		}
	}
}

// parseReply recognises an echo reply with our identifier in an Ethernet
// frame and returns its source address, sequence number and source MAC.
func parseReply(f []byte, id uint16) (src netip.Addr, seq uint16, mac string, ok bool) {
	if len(f) < 14 {
		return netip.Addr{}, 0, "", false
	}
	ip := f[14:]
	var icmpb []byte
	switch binary.BigEndian.Uint16(f[12:14]) {
	case unix.ETH_P_IP:
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != unix.IPPROTO_ICMP {
			return netip.Addr{}, 0, "", false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl+8 || ip[ihl] != 0 { // echo reply
			return netip.Addr{}, 0, "", false
		}
		src, icmpb = netip.AddrFrom4([4]byte(ip[12:16])), ip[ihl:]
	case unix.ETH_P_IPV6:
		if len(ip) < 48 || ip[0]>>4 != 6 || ip[6] != unix.IPPROTO_ICMPV6 || ip[40] != byte(ipv6.ICMPTypeEchoReply) {
			return netip.Addr{}, 0, "", false
		}
		src, icmpb = netip.AddrFrom16([16]byte(ip[8:24])), ip[40:]
	default:
		return netip.Addr{}, 0, "", false
	}
	if binary.BigEndian.Uint16(icmpb[4:6]) != id {
		return netip.Addr{}, 0, "", false
	}
	return src, binary.BigEndian.Uint16(icmpb[6:8]), net.HardwareAddr(f[6:12]).String(), true
}

// record files a reply under the latest request with its sequence number.
func (t *Target) record(at time.Time, seq uint16, mac string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	last := len(t.sent) - 1
	if last < 0 {
		return
	}
	i := last - int(uint16(last)-seq)
	if i < 0 {
		return // not one of ours
	}
	r := Reply{At: at, Seq: seq, MAC: mac, Dup: t.answered[i]}
	if !r.Dup {
		t.answered[i] = true
		t.recv++
	}
	t.replies = append(t.replies, r)
	close(t.wake)
	t.wake = make(chan struct{})
}

// Last returns the time of the latest reply (zero before any), how many
// requests were answered and how many sent.
func (t *Target) Last() (last time.Time, received, sent int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.replies) > 0 {
		last = t.replies[len(t.replies)-1].At
	}
	return last, t.recv, len(t.sent)
}

// LastMAC is the source MAC of the latest reply, "" before any.
func (t *Target) LastMAC() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.replies) == 0 {
		return ""
	}
	return t.replies[len(t.replies)-1].MAC
}

// WaitReply waits up to timeout for a reply that arrived after `after`.
func (t *Target) WaitReply(after time.Time, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		t.mu.Lock()
		ok := len(t.replies) > 0 && t.replies[len(t.replies)-1].At.After(after)
		wake := t.wake
		t.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-wake:
		case <-timer.C:
			return false
		}
	}
}

// Outage is what the host saw of a target in a window [from, to].
type Outage struct {
	Gap                 // the outage: LongestGap of the replies
	Sent, Recv int      // requests sent in the window, and replies to distinct ones received in it
	MACs       []string // who replied in the window, in order of first appearance
}

func (o Outage) String() string {
	rec := ""
	if !o.Recovered {
		rec = ", not recovered"
	}
	return fmt.Sprintf("outage %v (%s..%s%s), %d sent, %d answered, answered by %v",
		o.Len.Round(time.Microsecond), o.From.Format("15:04:05.000"), o.To.Format("15:04:05.000"), rec, o.Sent, o.Recv, o.MACs)
}

// Outage measures the window [from, to]: from is the failure (or any time
// before the silence of interest), to the end of the observation.
func (t *Target) Outage(from, to time.Time) Outage {
	t.mu.Lock()
	defer t.mu.Unlock()
	var o Outage
	lo, _ := slices.BinarySearchFunc(t.sent, from, time.Time.Compare)
	for _, s := range t.sent[lo:] {
		if s.After(to) {
			break
		}
		o.Sent++
	}
	// The replies of the window, and the last one before it: the anchor.
	i, _ := slices.BinarySearchFunc(t.replies, from, func(r Reply, at time.Time) int { return r.At.Compare(at) })
	var times []time.Time
	if i > 0 {
		times = append(times, t.replies[i-1].At)
	}
	for _, r := range t.replies[i:] {
		if r.At.After(to) {
			break
		}
		times = append(times, r.At)
		if !r.Dup {
			o.Recv++
		}
		if !slices.Contains(o.MACs, r.MAC) {
			o.MACs = append(o.MACs, r.MAC)
		}
	}
	o.Gap = LongestGap(times, from, to)
	return o
}

// Summary describes the whole run: the outage over it, the counts, and each
// change of the replying MAC.
func (t *Target) Summary() string {
	t.mu.Lock()
	start, end := time.Now(), time.Now()
	if len(t.sent) > 0 {
		start, end = t.sent[0], t.sent[len(t.sent)-1]
	}
	var b strings.Builder
	last := ""
	for _, r := range t.replies {
		if r.MAC != last {
			fmt.Fprintf(&b, "\n  %s replies from %s (seq %d)", r.At.Format("15:04:05.000"), r.MAC, r.Seq)
			last = r.MAC
		}
	}
	t.mu.Unlock()
	return fmt.Sprintf("prober %v every %v: %v%s", t.Addr, t.Every, t.Outage(start, end), b.String())
}
