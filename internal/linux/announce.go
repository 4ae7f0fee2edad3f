package linux

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Frames are built by hand rather than with mdlayher/arp or mdlayher/ndp:
// those send from the interface's own MAC and, for ndp, through an ICMPv6
// socket whose source must be an assigned, non-tentative address. Spec §10
// fixes every byte (Ethernet source = VMAC, IPv6 source = the VIP), so the
// frames are written whole onto an AF_PACKET socket (mdlayher/packet).

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	allNodesMAC  = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
	allNodes     = netip.MustParseAddr("ff02::1")
)

// AppendGARP appends the gratuitous ARP of spec §10.1 for vip, from mac:
// an ARP request, sender and target IP the VIP, target MAC broadcast, padded
// to the 60-byte Ethernet minimum.
func AppendGARP(b []byte, mac net.HardwareAddr, vip netip.Addr) []byte {
	ip := vip.As4()
	b = append(b, broadcastMAC...)
	b = append(b, mac...)
	b = append(b, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01)
	b = append(b, mac...)
	b = append(b, ip[:]...)
	b = append(b, broadcastMAC...)
	b = append(b, ip[:]...)
	return append(b, make([]byte, 18)...) // 42 -> 60
}

// AppendNA appends the unsolicited neighbour advertisement of spec §10.2 for
// vip: from the VIP to ff02::1, hop limit 255, Override set, Router set when
// router (the box forwards IPv6), target link-layer option mac.
func AppendNA(b []byte, mac net.HardwareAddr, vip netip.Addr, router bool) []byte {
	b = append(b, allNodesMAC...)
	b = append(b, mac...)
	b = append(b, 0x86, 0xdd)
	src, dst := vip.As16(), allNodes.As16()
	const icmpLen = 32 // header 4 + flags 4 + target 16 + option 8
	b = append(b, 0x60, 0, 0, 0, 0, icmpLen, unix.IPPROTO_ICMPV6, 255)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	icmp := len(b)
	var flags byte = 0x20 // Override
	if router {
		flags |= 0x80
	}
	b = append(b, 136, 0, 0, 0, flags, 0, 0, 0)
	b = append(b, src[:]...)
	b = append(b, 2, 1)
	b = append(b, mac...)
	// Checksum over the pseudo-header (src, dst, length, next header 58).
	var s uint32
	for i := 0; i < 16; i += 2 {
		s += uint32(binary.BigEndian.Uint16(src[i:])) + uint32(binary.BigEndian.Uint16(dst[i:]))
	}
	s += icmpLen + unix.IPPROTO_ICMPV6
	for i := icmp; i < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	binary.BigEndian.PutUint16(b[icmp+2:], ^uint16(s))
	return b
}

// AnnounceConfig sets how often a new Master announces its VIPs (spec §10.3).
// The zero value sends one burst of one message per VIP.
type AnnounceConfig struct {
	Repeat   int           // messages per VIP in a burst (keepalived garp_master_repeat); <1 means 1
	Interval time.Duration // gap between the messages of a burst (garp_interval / gna_interval)
	// Delay, when > 0, sends a second burst that long after the first
	// (keepalived garp_master_delay; spec IMPL-13 suggests 1-2 s).
	Delay time.Duration
	// Refresh, when > 0, repeats a burst at that period while the job runs
	// (garp_master_refresh: switch MAC tables age out after ~300 s).
	Refresh time.Duration
}

// AnnounceKey names one announcement job: a virtual router on an interface.
type AnnounceKey struct {
	Interface string
	VRID      uint8
	IPv6      bool
}

// Announcer runs the GARP/NA bursts of virtual routers that became Master,
// each job on its own goroutine so the caller (the state machine) never
// waits for the wire. Stop cancels what a job has not sent yet.
type Announcer struct {
	cfg  AnnounceConfig
	mu   sync.Mutex
	jobs map[AnnounceKey]*announceJob
	wg   sync.WaitGroup
}

type announceJob struct {
	stop chan struct{}
	done chan struct{}
}

// NewAnnouncer returns an Announcer using cfg for every job.
func NewAnnouncer(cfg AnnounceConfig) *Announcer {
	if cfg.Repeat < 1 {
		cfg.Repeat = 1
	}
	return &Announcer{cfg: cfg, jobs: make(map[AnnounceKey]*announceJob)}
}

// Start announces vips (all IPv4 or all IPv6, as key says) on
// key.Interface from mac: the VMAC in VMAC mode, else the interface's own
// MAC (nil: look it up). The first burst goes out at once; Start replaces a
// running job of the same key. The socket is opened, and IPv6 forwarding
// read, in the calling thread's network namespace before Start returns.
func (a *Announcer) Start(key AnnounceKey, mac net.HardwareAddr, vips []netip.Addr) error {
	ifi, err := net.InterfaceByName(key.Interface)
	if err != nil {
		return fmt.Errorf("linux: announce on %s: %w", key.Interface, err)
	}
	if mac == nil {
		mac = ifi.HardwareAddr
	}
	if len(mac) != 6 {
		return fmt.Errorf("linux: announce on %s: no Ethernet address", key.Interface)
	}
	proto := unix.ETH_P_ARP
	if key.IPv6 {
		proto = unix.ETH_P_IPV6
	}
	var frames [][]byte
	router := key.IPv6 && ipv6Forwarding(key.Interface)
	for _, v := range vips {
		v = v.Unmap()
		switch {
		case key.IPv6 && v.Is6():
			frames = append(frames, AppendNA(nil, mac, v, router))
		case !key.IPv6 && v.Is4():
			frames = append(frames, AppendGARP(nil, mac, v))
		default:
			return fmt.Errorf("linux: announce %v: wrong family for %+v", v, key)
		}
	}
	// Raw (with our own Ethernet header); the protocol only matters for
	// receiving, which this socket never does.
	conn, err := packet.Listen(ifi, packet.Raw, proto, nil)
	if err != nil {
		return fmt.Errorf("linux: announce on %s: %w", key.Interface, err)
	}
	job := &announceJob{stop: make(chan struct{}), done: make(chan struct{})}
	a.mu.Lock()
	old := a.jobs[key]
	a.jobs[key] = job
	a.wg.Add(1)
	a.mu.Unlock()
	if old != nil {
		close(old.stop)
	}
	go func() {
		defer a.wg.Done()
		defer close(job.done)
		defer conn.Close()
		a.run(job, conn, frames)
	}()
	return nil
}

func (a *Announcer) run(job *announceJob, conn *packet.Conn, frames [][]byte) {
	dst := &packet.Addr{HardwareAddr: broadcastMAC}
	// A write stuck on a dead link must not outlive Stop for long.
	burst := func() bool {
		for i := 0; i < a.cfg.Repeat; i++ {
			if i > 0 && !a.wait(job, a.cfg.Interval) {
				return false
			}
			for _, f := range frames {
				_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
				// Errors (link down...) are not fatal: the next burst
				// or refresh tries again.
				_, _ = conn.WriteTo(f, dst)
			}
		}
		return true
	}
	if !burst() {
		return
	}
	if a.cfg.Delay > 0 && (!a.wait(job, a.cfg.Delay) || !burst()) {
		return
	}
	if a.cfg.Refresh <= 0 {
		return
	}
	t := time.NewTicker(a.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-job.stop:
			return
		case <-t.C:
			if !burst() {
				return
			}
		}
	}
}

// wait sleeps d unless the job is stopped first; it reports whether to go on.
func (a *Announcer) wait(job *announceJob, d time.Duration) bool {
	select {
	case <-job.stop:
		return false
	default:
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-job.stop:
		return false
	case <-t.C:
		return true
	}
}

// Stop cancels key's job (leaving Master): nothing more is sent for it.
// It waits until the job's goroutine has finished.
func (a *Announcer) Stop(key AnnounceKey) {
	a.mu.Lock()
	job := a.jobs[key]
	delete(a.jobs, key)
	a.mu.Unlock()
	if job != nil {
		close(job.stop)
		<-job.done
	}
}

// Running reports whether key has a job that may still send.
func (a *Announcer) Running(key AnnounceKey) bool {
	a.mu.Lock()
	job := a.jobs[key]
	a.mu.Unlock()
	if job == nil {
		return false
	}
	select {
	case <-job.done:
		return false
	default:
		return true
	}
}

// Close stops every job.
func (a *Announcer) Close() {
	a.mu.Lock()
	for k, job := range a.jobs {
		close(job.stop)
		delete(a.jobs, k)
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// ipv6Forwarding reads net.ipv6.conf.<ifname>.forwarding in the calling
// thread's namespace; the NA Router flag follows it, as keepalived does.
func ipv6Forwarding(ifname string) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + ifname + "/forwarding")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}
