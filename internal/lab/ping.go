package lab

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Target is one address the host pings, with the time of every reply.
type Target struct {
	Addr netip.Addr

	conn *icmp.PacketConn
	mu   sync.Mutex
	sent int
	seen []bool // by sequence number: answered since sent (duplicates ignored)
	at   []time.Time
}

// Pinger sends ICMP echo requests from the host namespace to each target
// every interval over raw sockets and records when the replies come back.
type Pinger struct {
	Every   time.Duration
	Targets []*Target

	id   int
	stop chan struct{}
	wg   sync.WaitGroup
}

// StartPinger opens one raw ICMP socket per target inside nd's namespace and
// starts pinging.
func StartPinger(nd *Node, every time.Duration, addrs ...netip.Addr) (*Pinger, error) {
	p := &Pinger{Every: every, id: os.Getpid() & 0xffff, stop: make(chan struct{})}
	err := nd.Do(func() error {
		for _, a := range addrs {
			t := &Target{Addr: a, seen: make([]bool, 1<<16)}
			var err error
			if a.Is4() {
				t.conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
			} else {
				t.conn, err = icmp.ListenPacket("ip6:ipv6-icmp", "::")
				if err == nil {
					var f ipv6.ICMPFilter
					f.SetAll(true)
					f.Accept(ipv6.ICMPTypeEchoReply)
					err = t.conn.IPv6PacketConn().SetICMPFilter(&f)
				}
			}
			if err != nil {
				if t.conn != nil {
					t.conn.Close()
				}
				return err
			}
			p.Targets = append(p.Targets, t)
		}
		return nil
	})
	if err != nil {
		p.closeConns()
		return nil, err
	}
	for _, t := range p.Targets {
		p.wg.Add(1)
		go p.receive(t)
	}
	p.wg.Add(1)
	go p.send()
	return p, nil
}

func (p *Pinger) closeConns() {
	for _, t := range p.Targets {
		t.conn.Close()
	}
}

// Stop ends the pinging and closes the sockets.
func (p *Pinger) Stop() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.closeConns()
	p.wg.Wait()
}

func (p *Pinger) send() {
	defer p.wg.Done()
	tk := time.NewTicker(p.Every)
	defer tk.Stop()
	seq := 0
	payload := []byte("govrrp-lab echo")
	for {
		select {
		case <-p.stop:
			return
		case <-tk.C:
		}
		seq = (seq + 1) & 0xffff
		for _, t := range p.Targets {
			m := icmp.Message{Body: &icmp.Echo{ID: p.id, Seq: seq, Data: payload}}
			if t.Addr.Is4() {
				m.Type = ipv4.ICMPTypeEcho
			} else {
				m.Type = ipv6.ICMPTypeEchoRequest // the kernel fills the checksum
			}
			b, err := m.Marshal(nil)
			if err != nil {
				continue
			}
			t.mu.Lock()
			t.seen[seq] = false
			t.sent++
			t.mu.Unlock()
			// Errors (no neighbour yet, say) are outages like any other.
			_, _ = t.conn.WriteTo(b, &net.IPAddr{IP: t.Addr.AsSlice()})
		}
	}
}

func (p *Pinger) receive(t *Target) {
	defer p.wg.Done()
	proto := 1
	if t.Addr.Is6() {
		proto = 58
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := t.conn.ReadFrom(buf)
		now := time.Now()
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
		ipa, ok := from.(*net.IPAddr)
		if !ok {
			continue
		}
		src, ok := netip.AddrFromSlice(ipa.IP)
		if !ok || src.Unmap() != t.Addr {
			continue
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || (m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply) {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || e.ID != p.id || e.Seq < 0 || e.Seq > 0xffff {
			continue
		}
		t.mu.Lock()
		if !t.seen[e.Seq] {
			t.seen[e.Seq] = true
			t.at = append(t.at, now)
		}
		t.mu.Unlock()
	}
}

// Replies returns the times of the replies received since from, plus the
// last one before it (the start of a gap that spans from).
func (t *Target) Replies(from time.Time) []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := len(t.at)
	for i > 0 && !t.at[i-1].Before(from) {
		i--
	}
	if i > 0 {
		i--
	}
	return append([]time.Time(nil), t.at[i:]...)
}

// Last returns the time of the latest reply and how many were received and
// sent.
func (t *Target) Last() (last time.Time, received, sent int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.at) > 0 {
		last = t.at[len(t.at)-1]
	}
	return last, len(t.at), t.sent
}
