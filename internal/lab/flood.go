package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// Bounds of one Flood call: a typo in a test must not become an endless or
// unbounded storm.
const (
	MaxFloodRate     = 2_000_000 // packets per second
	MaxFloodDuration = 10 * time.Minute
)

// FloodConfig describes a bounded VRRP flood from one node of a LAN: a mix of
// well-formed adverts (which pass every receive check of a router configured
// with the same VRID, version, interval and addresses) and junk (which each
// fail one check, so a correct router drops them).
type FloodConfig struct {
	Interface string        // in the node, e.g. "eth0"
	Family    vrrp.Family   // vrrp.IPv4 or vrrp.IPv6
	Rate      int           // packets per second, paced in batches of about 1 ms
	Duration  time.Duration // hard bound: the flood stops by itself after it
	Valid     float64       // share of well-formed adverts, 0..1; the rest is junk

	// The well-formed adverts: TTL/hop limit 255, correct checksum (the
	// pseudo-header form for VRRPv3), source the node's own address (IPv4)
	// or link-local (IPv6).
	VRID      uint8
	Version   uint8 // 3, or 2 (IPv4 only)
	Priority  uint8 // e.g. 50 (loses to the routers) or 0 (a master resigning)
	Interval  time.Duration
	Addresses []netip.Addr // must match the routers' configuration

	// Seed for the junk's random bytes; the flood is reproducible for a seed.
	Seed uint64
}

// FloodStats is what a flood did.
type FloodStats struct {
	Sent    uint64        // packets the kernel accepted
	Valid   uint64        // of Sent, well-formed adverts
	Errors  uint64        // packets the kernel refused (ENOBUFS: the veth peer's backlog was full)
	Elapsed time.Duration // from the first send to the stop
}

// Rate is the achieved send rate in packets per second.
func (s FloodStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Sent) / s.Elapsed.Seconds()
}

// Junk kinds, in the order they take turns in the pool. Each fails exactly
// one receive check (spec §7.1), except random bytes which fail some.
const (
	junkRandom    = iota // random bytes as the VRRP payload
	junkVersion          // version 1 or 4..15
	junkVRID             // another VRID (same priority as the valid adverts)
	junkTTL              // TTL / hop limit 64
	junkChecksum         // checksum off by some bits
	junkTruncated        // cut short of its own Count
	junkKinds
)

const (
	floodPoolSize = 1000 // distinct packets, sent round-robin; 1000 gives Valid to 0.1%
	floodMaxBatch = 256  // packets per sendmmsg
)

// hostNetNS identifies the namespace the test binary started in, so Flood
// can refuse a Node that is not one of ours.
var hostNetNS = func() string {
	h, err := netns.Get()
	if err != nil {
		return ""
	}
	defer h.Close()
	return h.UniqueId()
}()

// Flood sends cfg's packets from nd's interface until cfg.Duration has passed
// or ctx is done, at most Rate·Duration packets. It sends on an AF_PACKET
// socket opened inside nd's namespace, so every packet (IP header included:
// per-packet TTL and junk) is built here and leaves on that interface only.
// When the kernel cannot keep up the flood runs as fast as it can rather than
// bursting later; Stats says what it reached.
func Flood(ctx context.Context, nd *Node, cfg FloodConfig) (FloodStats, error) {
	if err := cfg.check(); err != nil {
		return FloodStats{}, err
	}
	if err := floodSafe(nd); err != nil {
		return FloodStats{}, err
	}
	var (
		src     netip.Addr
		ifindex int
		fd      = -1
	)
	err := nd.Do(func() error {
		ifi, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return err
		}
		ifindex = ifi.Index
		if src, err = floodSource(ifi, cfg.Family); err != nil {
			return err
		}
		// Protocol 0: the socket receives nothing, so the flood does not
		// also queue every frame of the LAN to itself.
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		// A full send buffer must not block past ctx for long.
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &unix.Timeval{Usec: 100_000})
	})
	if fd >= 0 {
		defer unix.Close(fd)
	}
	if err != nil {
		return FloodStats{}, fmt.Errorf("flood from %s: %w", nd.Name, err)
	}
	pool, err := buildFloodPool(cfg, src)
	if err != nil {
		return FloodStats{}, err
	}
	return pool.send(ctx, fd, ifindex, cfg)
}

func (cfg *FloodConfig) check() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("lab: flood: "+f, a...) }
	switch {
	case cfg.Interface == "":
		return bad("no interface")
	case cfg.Family != vrrp.IPv4 && cfg.Family != vrrp.IPv6:
		return bad("family %v", cfg.Family)
	case cfg.Rate <= 0 || cfg.Rate > MaxFloodRate:
		return bad("rate %d outside 1..%d", cfg.Rate, MaxFloodRate)
	case cfg.Duration <= 0 || cfg.Duration > MaxFloodDuration:
		return bad("duration %v outside (0, %v]", cfg.Duration, MaxFloodDuration)
	case !(cfg.Valid >= 0 && cfg.Valid <= 1):
		return bad("valid share %v outside [0, 1]", cfg.Valid)
	case cfg.VRID == 0:
		return bad("VRID 0")
	case cfg.Version != 3 && (cfg.Version != 2 || cfg.Family != vrrp.IPv4):
		return bad("version %d over %v", cfg.Version, cfg.Family)
	case cfg.Interval <= 0:
		return bad("interval %v", cfg.Interval)
	case len(cfg.Addresses) == 0 || len(cfg.Addresses) > 16:
		return bad("%d addresses, want 1..16", len(cfg.Addresses))
	}
	for _, a := range cfg.Addresses {
		if vrrp.FamilyOf(a) != cfg.Family || !floodAllowed(a) {
			return bad("address %v: not %v in 10.77/16, 10.78/16, fd77::/16 or link-local", a, cfg.Family)
		}
	}
	return nil
}

// floodAllowed reports whether a is in the ranges network tests may use.
func floodAllowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range []string{"10.77.0.0/16", "10.78.0.0/16", "fd77::/16", "fe80::/10"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

// floodSafe refuses anything but a namespace this package created.
func floodSafe(nd *Node) error {
	if nd == nil || !nd.NS.IsOpen() || !strings.HasPrefix(nd.Name, Prefix) {
		return errors.New("lab: flood: not a lab node")
	}
	if hostNetNS == "" || nd.NS.UniqueId() == hostNetNS {
		return fmt.Errorf("lab: flood: %s is the test binary's own namespace", nd.Name)
	}
	return nil
}

// floodSource is the node's own address on ifi: its 10.77/10.78 IPv4
// address, or its IPv6 link-local (VRRP over IPv6 comes from link-local).
func floodSource(ifi *net.Interface, fam vrrp.Family) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if vrrp.FamilyOf(ip) == fam && floodAllowed(ip) && (fam == vrrp.IPv4 || ip.IsLinkLocalUnicast()) {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no %v source address in the test ranges on %s", fam, ifi.Name)
}

// floodPool is the packets a flood cycles through, ready for sendmmsg.
type floodPool struct {
	pkts  [][]byte // IP packets, header included
	valid []bool   // pkts[i] is a well-formed advert
	proto uint16   // EtherType
	dst   [6]byte  // the multicast MAC of 224.0.0.18 / ff02::12
}

// buildFloodPool makes floodPoolSize packets, the valid ones spread evenly
// (packet i is valid when ⌊(i+1)·Valid⌋ > ⌊i·Valid⌋), the junk taking turns
// by kind.
func buildFloodPool(cfg FloodConfig, src netip.Addr) (*floodPool, error) {
	seed := cfg.Seed
	if seed == 0 {
		seed = 0x5eed
	}
	rng := rand.New(rand.NewPCG(seed, uint64(cfg.VRID)))
	p := &floodPool{}
	dst := vrrp.MulticastIPv4
	if cfg.Family == vrrp.IPv6 {
		dst = vrrp.MulticastIPv6
		p.proto, p.dst = unix.ETH_P_IPV6, [6]byte{0x33, 0x33, 0, 0, 0, 0x12}
	} else {
		p.proto, p.dst = unix.ETH_P_IP, [6]byte{0x01, 0x00, 0x5e, 0, 0, 0x12}
	}
	lookup := func(vrid uint8) *vrrp.Config {
		if vrid != cfg.VRID {
			return nil
		}
		return &vrrp.Config{Version: cfg.Version, Priority: 100, Interval: cfg.Interval, Addresses: cfg.Addresses}
	}
	advert := func(version, vrid uint8) []byte {
		m := vrrp.Message{Version: version, Type: vrrp.TypeAdvertisement, VRID: vrid, Priority: cfg.Priority,
			Family: cfg.Family, Interval: cfg.Interval, Addresses: cfg.Addresses}
		b, err := m.Encode(nil, src, dst, vrrp.ChecksumPseudoHeader)
		if err != nil {
			panic(err) // cfg.check admitted it
		}
		return b
	}
	valid := advert(cfg.Version, cfg.VRID)
	if _, err := vrrp.Validate(new(vrrp.Message), valid, vrrp.IPHeader{Src: src, Dst: dst, TTL: vrrp.TTL}, lookup); err != nil {
		return nil, fmt.Errorf("lab: flood: the valid advert fails the receive checks: %w", err)
	}
	junk := 0
	for i := range floodPoolSize {
		isValid := math.Floor(float64(i+1)*cfg.Valid) > math.Floor(float64(i)*cfg.Valid)
		payload, ttl := valid, uint8(vrrp.TTL)
		if !isValid {
			for try := 0; ; try++ {
				payload, ttl = makeJunk(junk%junkKinds, junk/junkKinds, cfg, valid, advert, rng)
				_, err := vrrp.Validate(new(vrrp.Message), payload, vrrp.IPHeader{Src: src, Dst: dst, TTL: ttl}, lookup)
				if err != nil {
					break
				}
				if try > 100 { // only random bytes can pass, and not 100 times
					return nil, errors.New("lab: flood: junk keeps passing the receive checks")
				}
			}
			junk++
		}
		p.pkts = append(p.pkts, ipPacket(src, dst, ttl, uint16(i), payload))
		p.valid = append(p.valid, isValid)
	}
	return p, nil
}

// makeJunk returns the n-th junk payload of a kind and its TTL.
func makeJunk(kind, n int, cfg FloodConfig, valid []byte, advert func(version, vrid uint8) []byte, rng *rand.Rand) ([]byte, uint8) {
	b := append([]byte(nil), valid...)
	switch kind {
	case junkRandom:
		b = make([]byte, 1+rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	case junkVersion:
		// The codec encodes versions 2 and 3 only: patch the nibble and
		// keep the checksum right, so the version is the only fault.
		versions := []uint8{1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
		old := binary.BigEndian.Uint16(b)
		word := old&0x0fff | uint16(versions[n%len(versions)])<<12
		binary.BigEndian.PutUint16(b, word)
		binary.BigEndian.PutUint16(b[6:], checksumUpdate(binary.BigEndian.Uint16(b[6:]), old, word))
	case junkVRID:
		// VRID+1, VRID+2, ... round 1..255, never VRID itself.
		b = advert(cfg.Version, uint8((int(cfg.VRID)+n%254)%255+1))
	case junkTTL:
		return b, 64
	case junkChecksum:
		b[6] ^= 0x5a
	case junkTruncated:
		b = b[:1+n%(len(b)-1)]
	}
	return b, vrrp.TTL
}

// checksumUpdate is the Internet checksum after one 16-bit word changed
// from old to word (RFC 1624, eqn. 3).
func checksumUpdate(sum, old, word uint16) uint16 {
	s := uint32(^sum) + uint32(^old) + uint32(word)
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// ipPacket prepends an IPv4 or IPv6 header to payload.
func ipPacket(src, dst netip.Addr, ttl uint8, id uint16, payload []byte) []byte {
	if src.Is4() {
		h := make([]byte, 20, 20+len(payload))
		h[0], h[1] = 0x45, 0xc0 // IHL 5; precedence "internetwork control", as routers send
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
		binary.BigEndian.PutUint16(h[4:], id)
		h[8], h[9] = ttl, vrrp.IPProtocol
		s4, d4 := src.As4(), dst.As4()
		copy(h[12:], s4[:])
		copy(h[16:], d4[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(h[i:]))
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
		return append(h, payload...)
	}
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x6c // version 6, traffic class 0xc0 (its low nibble, in h[1], is 0)
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = vrrp.IPProtocol, ttl
	s16, d16 := src.As16(), dst.As16()
	copy(h[8:], s16[:])
	copy(h[24:], d16[:])
	return append(h, payload...)
}

// send paces the pool out on fd. A window of msgs never wraps: the first
// floodMaxBatch headers are repeated at the end.
func (p *floodPool) send(ctx context.Context, fd, ifindex int, cfg FloodConfig) (FloodStats, error) {
	sa := &unix.RawSockaddrLinklayer{Family: unix.AF_PACKET, Protocol: htons(p.proto), Ifindex: int32(ifindex), Halen: 6}
	copy(sa.Addr[:], p.dst[:])
	n := len(p.pkts)
	iovs := make([]unix.Iovec, n)
	msgs := make([]unix.Mmsghdr, n+floodMaxBatch)
	for i := range msgs {
		k := i % n
		iovs[k].Base = &p.pkts[k][0]
		iovs[k].SetLen(len(p.pkts[k]))
		msgs[i].Hdr.Name = (*byte)(unsafe.Pointer(sa))
		msgs[i].Hdr.Namelen = unix.SizeofSockaddrLinklayer
		msgs[i].Hdr.Iov = &iovs[k]
		msgs[i].Hdr.SetIovlen(1)
	}
	defer runtime.KeepAlive(p)
	defer runtime.KeepAlive(sa)
	defer runtime.KeepAlive(iovs)

	rate := float64(cfg.Rate)
	limit := uint64(math.Ceil(rate * cfg.Duration.Seconds()))
	batch := uint64(max(1, min(floodMaxBatch, cfg.Rate/1000))) // ~1 ms of packets per wake-up
	maxLag := 8 * batch                                        // further behind than this: forgive, don't burst
	var st FloodStats
	var done, forgiven uint64 // done = sent + refused
	pos := 0
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	start := time.Now()
	end := start.Add(cfg.Duration)
	for done < limit && ctx.Err() == nil {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		due := min(uint64(now.Sub(start).Seconds()*rate)-forgiven, limit)
		if due < done+batch && due < limit {
			next := start.Add(time.Duration(float64(done+batch+forgiven) / rate * float64(time.Second)))
			// A select, not a sleep: at low rates the wait is long and
			// ctx must still stop the flood at once.
			wait.Reset(min(next.Sub(now), end.Sub(now)))
			select {
			case <-ctx.Done():
			case <-wait.C:
			}
			continue
		}
		if due-done > maxLag {
			forgiven += due - done - maxLag
			due = done + maxLag
		}
		k := min(due-done, floodMaxBatch)
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[pos])), uintptr(k), 0, 0, 0)
		switch {
		case errno == 0:
			for i := range int(r) {
				if p.valid[(pos+i)%n] {
					st.Valid++
				}
			}
			st.Sent += uint64(r)
			done += uint64(r)
			pos = (pos + int(r)) % n
		case errno == unix.EINTR:
		case errno == unix.ENOBUFS || errno == unix.EAGAIN:
			// The first packet was refused: skip it, count it.
			st.Errors++
			done++
			pos = (pos + 1) % n
		default:
			st.Elapsed = time.Since(start)
			return st, fmt.Errorf("lab: flood: sendmmsg: %w", syscall.Errno(errno))
		}
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
