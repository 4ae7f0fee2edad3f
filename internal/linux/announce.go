package linux

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Frames are built by hand rather than with mdlayher/arp or mdlayher/ndp:
// those send from the interface's own MAC and, for ndp, through an ICMPv6
// socket whose source must be an assigned, non-tentative address. Spec §10
// fixes every byte (Ethernet source = VMAC, IPv6 source = the VIP), so the
// frames are written whole onto an AF_PACKET socket.

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
	// (garp_master_refresh: switch MAC tables age out after ~300 s). Each
	// refresh burst begins Refresh after the previous burst began.
	Refresh time.Duration
}

func (c AnnounceConfig) normal() AnnounceConfig {
	c.Repeat = max(c.Repeat, 1)
	c.Interval = max(c.Interval, 0)
	return c
}

// AnnounceKey names one announcement job: a virtual router on an interface.
type AnnounceKey struct {
	Interface string
	VRID      uint8
	IPv6      bool
}

// announceRetryFor bounds how long a round keeps retrying while the socket's
// send buffer is full (a mass failover queues thousands of frames at once);
// the rest of that round is then dropped, like a write past its deadline.
const announceRetryFor = time.Second

// Announcer runs the GARP/NA bursts of virtual routers that became Master.
// One Announcer serves any number of jobs on any interfaces of one network
// namespace, each with its own AnnounceConfig, so a daemon needs one.
//
// The cost does not grow with the number of jobs beyond their frames and a
// heap entry: one send-only AF_PACKET socket, opened by the first Start and
// kept until Close, and one goroutine that exists only while a job has
// something left to send, sleeping until the earliest deadline. Start and
// Stop never wait for the wire: the socket is non-blocking.
type Announcer struct {
	def AnnounceConfig // for Start

	mu      sync.Mutex
	fd      int // -1 until the first Start, and after Close
	jobs    map[AnnounceKey]*announceJob
	queue   jobQueue // every job of jobs, earliest deadline first
	seq     uint64
	running bool // the sending goroutine exists
	closed  bool
	wake    chan struct{}
	wg      sync.WaitGroup
}

type announcePhase uint8

const (
	phaseFirst announcePhase = iota
	phaseDelayed
	phaseRefresh
)

type announceJob struct {
	key    AnnounceKey
	cfg    AnnounceConfig
	frames [][]byte // built once by Start
	to     unix.SockaddrLinklayer

	at    time.Time // when the next round is due
	seq   uint64    // FIFO among equal deadlines
	index int       // in the queue

	phase      announcePhase
	burst      time.Time // when the current burst began; Refresh counts from it
	round      int       // rounds (one message per VIP) sent of the current burst
	frame      int       // next frame of the current round: a full buffer resumes here
	retryUntil time.Time // zero unless the current round met a full buffer
}

// NewAnnouncer returns an idle Announcer (no socket, no goroutine); def is
// the configuration of jobs started with Start rather than StartWith.
func NewAnnouncer(def AnnounceConfig) *Announcer {
	return &Announcer{def: def.normal(), fd: -1, jobs: make(map[AnnounceKey]*announceJob), wake: make(chan struct{}, 1)}
}

// Start is StartWith with the configuration given to NewAnnouncer.
func (a *Announcer) Start(key AnnounceKey, mac net.HardwareAddr, vips []netip.Addr) error {
	return a.StartWith(key, mac, vips, a.def)
}

// StartWith announces vips (all IPv4 or all IPv6, as key says) on
// key.Interface from mac: the VMAC in VMAC mode, else the interface's own
// MAC (nil: look it up), with bursts as cfg says. The first burst is due at
// once; StartWith replaces a running job of the same key and returns
// without waiting for the wire.
//
// The Announcer's socket is opened by its first Start, in the calling
// thread's network namespace, and interface names are resolved in that
// namespace ever after; IPv6 forwarding is read in the caller's.
func (a *Announcer) StartWith(key AnnounceKey, mac net.HardwareAddr, vips []netip.Addr, cfg AnnounceConfig) error {
	fail := func(err error) error { return fmt.Errorf("linux: announce on %s: %w", key.Interface, err) }
	// Under the lock so that Close cannot close the socket under the ioctls.
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return fail(net.ErrClosed)
	}
	if a.fd < 0 {
		// Protocol 0: the socket receives nothing, so a flood queues
		// nothing on it; each frame names its EtherType and interface.
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			a.mu.Unlock()
			return fail(os.NewSyscallError("socket", err))
		}
		a.fd = fd
	}
	ifindex, err := ifIndex(a.fd, key.Interface)
	if err == nil && mac == nil {
		mac, err = ifMAC(a.fd, key.Interface)
	}
	a.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	if len(mac) != 6 {
		return fail(errors.New("no Ethernet address"))
	}

	to := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifindex, Halen: 6}
	size := 60
	if key.IPv6 {
		to.Protocol, size = htons(unix.ETH_P_IPV6), 86
	}
	router := key.IPv6 && ipv6Forwarding(key.Interface)
	// One buffer for all frames: a job costs two allocations whatever its size.
	buf := make([]byte, 0, size*len(vips))
	frames := make([][]byte, 0, len(vips))
	for _, v := range vips {
		v = v.Unmap()
		n := len(buf)
		switch {
		case key.IPv6 && v.Is6():
			buf = AppendNA(buf, mac, v, router)
		case !key.IPv6 && v.Is4():
			buf = AppendGARP(buf, mac, v)
		default:
			return fmt.Errorf("linux: announce %v: wrong family for %+v", v, key)
		}
		frames = append(frames, buf[n:len(buf):len(buf)])
	}
	copy(to.Addr[:], frameDst(key.IPv6))

	j := &announceJob{key: key, cfg: cfg.normal(), frames: frames, to: to, index: -1}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return fail(net.ErrClosed)
	}
	a.remove(key)
	if len(frames) == 0 {
		return nil
	}
	j.at = time.Now()
	j.burst = j.at
	a.jobs[key] = j
	a.push(j)
	if !a.running {
		a.running = true
		a.wg.Add(1)
		go a.run()
	} else {
		a.poke()
	}
	return nil
}

// frameDst is the destination MAC of a job's frames (informational for a
// SOCK_RAW socket: the frame carries its own header).
func frameDst(ipv6 bool) net.HardwareAddr {
	if ipv6 {
		return allNodesMAC
	}
	return broadcastMAC
}

// Stop cancels key's job (leaving Master): nothing more is sent for it once
// Stop returns. It waits at most for the round of one job being written.
func (a *Announcer) Stop(key AnnounceKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.remove(key)
	if len(a.queue) == 0 && a.running {
		a.poke() // let the goroutine exit now, not at a cancelled deadline
	}
}

// Running reports whether key has a job that may still send.
func (a *Announcer) Running(key AnnounceKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.jobs[key] != nil
}

// Close stops every job, waits for the goroutine and closes the socket.
// Start fails afterwards.
func (a *Announcer) Close() {
	a.mu.Lock()
	a.closed = true
	clear(a.jobs)
	a.queue = nil
	if a.fd >= 0 {
		// Safe: the goroutine writes only under the lock, and sees closed.
		_ = unix.Close(a.fd)
		a.fd = -1
	}
	a.poke()
	a.mu.Unlock()
	a.wg.Wait()
}

// remove drops key's job from the map and the queue. Called with a.mu held.
func (a *Announcer) remove(key AnnounceKey) {
	if j := a.jobs[key]; j != nil {
		delete(a.jobs, key)
		if j.index >= 0 {
			heap.Remove(&a.queue, j.index)
		}
	}
}

func (a *Announcer) push(j *announceJob) {
	a.seq++
	j.seq = a.seq
	heap.Push(&a.queue, j)
}

// poke wakes the goroutine to look at the queue again.
func (a *Announcer) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// run sends every due round, earliest first, and exits when no job is left.
func (a *Announcer) run() {
	defer a.wg.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		a.mu.Lock()
		if a.closed || len(a.queue) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		j := a.queue[0]
		now := time.Now()
		if d := j.at.Sub(now); d > 0 {
			a.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-a.wake:
			}
			continue
		}
		// One job's round per lock hold: Start and Stop wait for at most
		// that, and Stop returning means the job sends nothing more.
		heap.Pop(&a.queue)
		a.round(j, now)
		a.mu.Unlock()
	}
}

// round writes j's due round and queues what comes next, or forgets j when
// it has nothing left to send. Called with a.mu held, j out of the queue.
func (a *Announcer) round(j *announceJob, now time.Time) {
	reresolved := false
	for j.frame < len(j.frames) {
		err := unix.Sendto(a.fd, j.frames[j.frame], 0, &j.to)
		switch {
		case err == unix.EAGAIN || err == unix.ENOBUFS || err == unix.EINTR:
			// The send buffer is full: resume here shortly, for a while.
			if j.retryUntil.IsZero() {
				j.retryUntil = now.Add(announceRetryFor)
			}
			if now.Before(j.retryUntil) {
				j.at = now.Add(time.Millisecond)
				a.push(j)
				return
			}
			j.frame = len(j.frames) // give up this round's rest
			continue
		case err == unix.ENXIO && !reresolved:
			// No device of that index: the interface was re-created.
			reresolved = true
			if i, e := ifIndex(a.fd, j.key.Interface); e == nil && i != j.to.Ifindex {
				j.to.Ifindex = i
				continue
			}
		}
		// Other errors (link down...) are not fatal: the next round, burst
		// or refresh tries again.
		j.frame++
	}
	j.frame, j.retryUntil = 0, time.Time{}
	if j.round++; j.round < j.cfg.Repeat {
		j.at = now.Add(j.cfg.Interval)
		a.push(j)
		return
	}
	j.round = 0
	switch {
	case j.phase == phaseFirst && j.cfg.Delay > 0:
		j.phase, j.at = phaseDelayed, now.Add(j.cfg.Delay)
	case j.cfg.Refresh > 0:
		j.phase, j.at = phaseRefresh, j.burst.Add(j.cfg.Refresh)
		if j.at.Before(now) {
			j.at = now
		}
	default:
		delete(a.jobs, j.key)
		return
	}
	j.burst = j.at
	a.push(j)
}

// jobQueue is a heap of jobs by deadline (container/heap).
type jobQueue []*announceJob

func (q jobQueue) Len() int { return len(q) }
func (q jobQueue) Less(i, k int) bool {
	if !q[i].at.Equal(q[k].at) {
		return q[i].at.Before(q[k].at)
	}
	return q[i].seq < q[k].seq
}
func (q jobQueue) Swap(i, k int) {
	q[i], q[k] = q[k], q[i]
	q[i].index, q[k].index = i, k
}
func (q *jobQueue) Push(x any) {
	j := x.(*announceJob)
	j.index = len(*q)
	*q = append(*q, j)
}
func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	j.index = -1
	return j
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ifIndex and ifMAC ask the kernel through fd, in fd's namespace, without
// opening a netlink socket as net.InterfaceByName does on every call.
func ifIndex(fd int, name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, os.NewSyscallError("SIOCGIFINDEX", err)
	}
	return int(ifr.Uint32()), nil
}

func ifMAC(fd int, name string) (net.HardwareAddr, error) {
	var ifr struct {
		name   [unix.IFNAMSIZ]byte
		family uint16 // of ifr_hwaddr: the ARPHRD_ type
		data   [14]byte
		_      [8]byte // the rest of the ifreq union
	}
	if len(name) >= unix.IFNAMSIZ {
		return nil, unix.EINVAL
	}
	copy(ifr.name[:], name)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFHWADDR, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return nil, os.NewSyscallError("SIOCGIFHWADDR", e)
	}
	if ifr.family != unix.ARPHRD_ETHER {
		return nil, nil // not Ethernet: Start reports it
	}
	return net.HardwareAddr(append([]byte(nil), ifr.data[:6]...)), nil
}

// ipv6Forwarding reads net.ipv6.conf.<ifname>.forwarding in the calling
// thread's namespace; the NA Router flag follows it, as keepalived does.
func ipv6Forwarding(ifname string) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + ifname + "/forwarding")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}
