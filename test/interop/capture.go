package interop

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/pcapfile"
	"govrrp/vrrp"
)

// CaptureFilter keeps the control plane: VRRP, ARP and IPv6 neighbour
// discovery, not the prober's echo traffic.
const CaptureFilter = "ip proto 112 or ip6 proto 112 or arp or (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)"

// Capture is tcpdump writing a pcap file, packet-buffered (-U) so the file
// can be read while it runs.
type Capture struct {
	Path  string
	proc  *lab.Proc
	start time.Time
}

// StartCapture runs `tcpdump -i ifname -U -w path` in nd and returns once it
// listens. It is stopped (SIGINT) in t.Cleanup.
func StartCapture(t testing.TB, nd *lab.Node, ifname, path, filter string) *Capture {
	t.Helper()
	log := strings.TrimSuffix(path, ".pcap") + ".log"
	args := []string{"tcpdump", "-i", ifname, "-n", "-U", "--immediate-mode", "-s", "512", "-Z", "root", "-w", path}
	if filter != "" {
		args = append(args, filter)
	}
	c := &Capture{Path: path, start: time.Now()}
	c.proc = lab.StartProc(t, nd, "tcpdump", log, args...)
	if !lab.Poll(10*time.Second, 10*time.Millisecond, func() bool {
		return strings.Contains(lab.ReadFile(log), "listening on") || !c.proc.Running()
	}) || !c.proc.Running() {
		t.Fatalf("tcpdump did not start:\n%s", lab.ReadFile(log))
	}
	t.Cleanup(c.Stop)
	return c
}

// Stop ends the capture cleanly; the file stays.
func (c *Capture) Stop() {
	if c.proc.Running() {
		_ = c.proc.Signal(syscall.SIGINT)
		if !c.proc.Wait(lab.StopTimeout) {
			c.proc.KillGroup()
			c.proc.Wait(lab.StopTimeout)
		}
	}
}

// Advert is one VRRP advertisement seen on the wire.
type Advert struct {
	Time     time.Time
	SrcMAC   net.HardwareAddr
	Src, Dst netip.Addr
	TTL      uint8
	Family   Family
	Version  uint8
	VRID     uint8
	Priority uint8
	Interval time.Duration
	Addrs    []netip.Addr
	Err      error // the advert could not be decoded (other fields partial)
}

func (a Advert) String() string {
	s := fmt.Sprintf("%s %v > %v (%v) v%d vrid %d prio %d int %v ttl %d addrs %v",
		a.Time.Format("15:04:05.000000"), a.Src, a.Dst, a.SrcMAC, a.Version, a.VRID, a.Priority, a.Interval, a.TTL, a.Addrs)
	if a.Err != nil {
		s += " ERR " + a.Err.Error()
	}
	return s
}

// Adverts is a time-ordered list of adverts.
type Adverts []Advert

// Adverts reads the capture so far and returns every VRRP advert in it.
func (c *Capture) Adverts() (Adverts, error) {
	pkts, err := pcapfile.ReadFile(c.Path)
	if errors.Is(err, pcapfile.ErrTruncatedFile) {
		err = nil // tcpdump is writing the last record right now
	}
	var out Adverts
	for _, p := range pkts {
		if p.Protocol != 112 || p.IPVersion == 0 {
			continue
		}
		a := Advert{Time: p.Time, SrcMAC: p.SrcMAC, Src: p.Src, Dst: p.Dst, TTL: p.TTL, Err: p.Err}
		fam := vrrp.IPv4
		a.Family = IPv4
		if p.IPVersion == 6 {
			fam, a.Family = vrrp.IPv6, IPv6
		}
		var m vrrp.Message
		if derr := m.Decode(p.Payload, fam); derr != nil && a.Err == nil {
			a.Err = derr
		}
		a.Version, a.VRID, a.Priority, a.Interval = m.Version, m.VRID, m.Priority, m.Interval
		a.Addrs = append([]netip.Addr(nil), m.Addresses...)
		out = append(out, a)
	}
	return out, err
}

// Filter returns the adverts for which keep is true.
func (as Adverts) Filter(keep func(Advert) bool) Adverts {
	var out Adverts
	for _, a := range as {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// VR keeps the adverts of one virtual router.
func (as Adverts) VR(k VRKey) Adverts {
	return as.Filter(func(a Advert) bool { return a.VRID == k.VRID && a.Family == k.Family })
}

// From keeps the adverts sent by src.
func (as Adverts) From(src netip.Addr) Adverts {
	return as.Filter(func(a Advert) bool { return a.Src == src })
}

// Between keeps the adverts sent in [from, to).
func (as Adverts) Between(from, to time.Time) Adverts {
	return as.Filter(func(a Advert) bool { return !a.Time.Before(from) && a.Time.Before(to) })
}

// Handover finds a change of sender: the first advert with priority > 0 from
// newSrc at or after `after`, and the last advert with priority > 0 from
// oldSrc before it. Gap is the time between them: for a failure of the old
// master, its last word to the new master's first.
func (as Adverts) Handover(after time.Time, oldSrc, newSrc netip.Addr) (last, first Advert, gap time.Duration, err error) {
	i := -1
	for j, a := range as {
		if a.Src == newSrc && a.Priority > 0 && !a.Time.Before(after) {
			i = j
			break
		}
	}
	if i < 0 {
		return last, first, 0, fmt.Errorf("no advert from %v after %s", newSrc, after.Format("15:04:05.000"))
	}
	first = as[i]
	for j := i - 1; j >= 0; j-- {
		if as[j].Src == oldSrc && as[j].Priority > 0 {
			last = as[j]
			return last, first, first.Time.Sub(last.Time), nil
		}
	}
	return last, first, 0, fmt.Errorf("no advert from %v before %s", oldSrc, first.Time.Format("15:04:05.000"))
}

// Tail formats the last n adverts, one per line.
func (as Adverts) Tail(n int) string {
	if len(as) > n {
		as = as[len(as)-n:]
	}
	var b strings.Builder
	for _, a := range as {
		b.WriteString(a.String() + "\n")
	}
	return b.String()
}
