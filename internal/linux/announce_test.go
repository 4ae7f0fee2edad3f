package linux

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var vmac4, vmac6 = net.HardwareAddr{0, 0, 0x5e, 0, 1, 0x33}, net.HardwareAddr{0, 0, 0x5e, 0, 2, 0x33}

// TestGARPFrame checks AppendGARP against the example of spec §10.1.
func TestGARPFrame(t *testing.T) {
	want := unhex(t, `ff ff ff ff ff ff 00 00 5e 00 01 33 08 06 00 01 08 00 06 04 00 01
		00 00 5e 00 01 33 0a 4d 00 fe ff ff ff ff ff ff 0a 4d 00 fe`)
	want = append(want, make([]byte, 18)...)
	got := AppendGARP(nil, vmac4, netip.MustParseAddr("10.77.0.254"))
	if !bytes.Equal(got, want) {
		t.Fatalf("GARP\n got % x\nwant % x", got, want)
	}
}

// TestNAFrame checks AppendNA against the examples of spec §10.2.
func TestNAFrame(t *testing.T) {
	vip := netip.MustParseAddr("fe80::51")
	src := vip.As16()
	dst := allNodes.As16()
	want := unhex(t, "33 33 00 00 00 01 00 00 5e 00 02 33 86 dd 60 00 00 00 00 20 3a ff")
	want = append(want, src[:]...)
	want = append(want, dst[:]...)
	want = append(want, unhex(t, "88 00 78 c8 a0 00 00 00")...)
	want = append(want, src[:]...)
	want = append(want, unhex(t, "02 01 00 00 5e 00 02 33")...)
	if got := AppendNA(nil, vmac6, vip, true); !bytes.Equal(got, want) {
		t.Fatalf("NA\n got % x\nwant % x", got, want)
	}
	got := AppendNA(nil, vmac6, netip.MustParseAddr("2001:db8::51"), true)
	if got[56] != 0x1a || got[57] != 0x58 {
		t.Fatalf("checksum of the 2001:db8::51 NA = %02x%02x, want 1a58", got[56], got[57])
	}
	// Without the Router flag only the flags word and the checksum change.
	nr := AppendNA(nil, vmac6, vip, false)
	if nr[58] != 0x20 {
		t.Fatalf("flags %02x, want 20 (Override only)", nr[58])
	}
}

func isGARP(vip netip.Addr) func([]byte) bool {
	ip := vip.As4()
	return func(f []byte) bool {
		return lab.EtherType(f) == 0x0806 && len(f) >= 42 && f[21] == 1 && bytes.Equal(f[28:32], ip[:]) && bytes.Equal(f[38:42], ip[:])
	}
}

func isNA(vip netip.Addr) func([]byte) bool {
	ip := vip.As16()
	return func(f []byte) bool {
		return lab.EtherType(f) == 0x86dd && len(f) >= 86 && f[20] == 58 && f[54] == 136 && bytes.Equal(f[62:78], ip[:])
	}
}

// TestAnnouncerBursts runs real bursts in a namespace: the frames a
// neighbour captures are the spec's, the delayed second burst comes, and
// Stop cancels what is pending.
func TestAnnouncerBursts(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	sniff := lab.Sniff(t, r2, "eth0")
	vip4, vip6 := netip.MustParseAddr("10.77.0.254"), netip.MustParseAddr("fd77::254")
	r1.MustSysctl(t, "net/ipv6/conf/eth0/forwarding", "1")

	const delay = 300 * time.Millisecond
	a := NewAnnouncer(AnnounceConfig{Repeat: 2, Interval: 20 * time.Millisecond, Delay: delay})
	t.Cleanup(a.Close)
	k4 := AnnounceKey{Interface: "eth0", VRID: 51}
	k6 := AnnounceKey{Interface: "eth0", VRID: 51, IPv6: true}
	start := time.Now()
	r1.MustDo(t, func() error {
		if err := a.Start(k4, vmac4, []netip.Addr{vip4}); err != nil {
			return err
		}
		return a.Start(k6, vmac6, []netip.Addr{vip6})
	})
	wantGARP := AppendGARP(nil, vmac4, vip4)
	wantNA := AppendNA(nil, vmac6, vip6, true)
	var garps, nas int
	for garps < 4 || nas < 4 { // 2 + 2 after the delay, of each
		f, err := sniff.Next(waitLong, func(f []byte) bool { return isGARP(vip4)(f) || isNA(vip6)(f) })
		if err != nil {
			t.Fatalf("after %d GARPs and %d NAs: %v", garps, nas, err)
		}
		if isGARP(vip4)(f) {
			if !bytes.Equal(f, wantGARP) {
				t.Fatalf("GARP on the wire\n% x\nwant\n% x", f, wantGARP)
			}
			garps++
			if garps == 3 && time.Since(start) < delay {
				t.Fatalf("second burst after %v, before the %v delay", time.Since(start), delay)
			}
			continue
		}
		if !bytes.Equal(f, wantNA) {
			t.Fatalf("NA on the wire (Router flag expected: eth0 forwards)\n% x\nwant\n% x", f, wantNA)
		}
		nas++
	}

	// Stop before the delayed burst: nothing more may come.
	a2 := NewAnnouncer(AnnounceConfig{Repeat: 1, Delay: 300 * time.Millisecond, Refresh: time.Second})
	t.Cleanup(a2.Close)
	vip := netip.MustParseAddr("10.77.0.253")
	r1.MustDo(t, func() error { return a2.Start(k4, nil, []netip.Addr{vip}) })
	if _, err := sniff.Next(waitLong, isGARP(vip)); err != nil {
		t.Fatal(err)
	}
	a2.Stop(k4)
	if a2.Running(k4) {
		t.Fatal("job still running after Stop")
	}
	if f, err := sniff.Next(time.Second, isGARP(vip)); err == nil {
		t.Fatalf("GARP after Stop: % x", f)
	}
}

// openFDs lists this process's open file descriptors.
func openFDs(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := map[string]string{}
	for _, e := range ents {
		fds[e.Name()], _ = os.Readlink("/proc/self/fd/" + e.Name())
	}
	return fds
}

// newFDs returns the fds of now that were not open (to the same file) before.
func newFDs(before, now map[string]string) []string {
	var fds []string
	for fd, what := range now {
		// A namespace handle is the test harness's (entering and leaving
		// the node's namespace), never the announcer's.
		if before[fd] != what && !strings.HasPrefix(what, "net:[") {
			fds = append(fds, fd+"->"+what)
		}
	}
	return fds
}

// settle waits, without sleeping, until cond holds; goroutines that have
// signalled their end may take a moment to be gone.
func settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitLong); !cond(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitLong)
		}
	}
}

// TestAnnouncerReusesSocket: a thousand Start/Stop cycles (a flooded Master
// restarting its announcement) open one packet socket in all, keep no
// goroutine once stopped, and Close leaves neither fd nor goroutine.
func TestAnnouncerReusesSocket(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1 := lan.Nodes[0]
	k := AnnounceKey{Interface: "eth0", VRID: 52}
	vips := []netip.Addr{netip.MustParseAddr("10.77.0.252"), netip.MustParseAddr("10.77.0.251")}
	cfg := AnnounceConfig{Repeat: 3, Interval: 10 * time.Millisecond, Delay: time.Second, Refresh: time.Minute}

	fds0, g0 := openFDs(t), runtime.NumGoroutine()
	a := NewAnnouncer(AnnounceConfig{})
	t.Cleanup(a.Close)
	if len(newFDs(fds0, openFDs(t))) != 0 || runtime.NumGoroutine() > g0 {
		t.Fatal("NewAnnouncer opened a socket or started a goroutine")
	}
	var fd int
	var ino uint64
	r1.MustDo(t, func() error {
		for i := range 1000 {
			if err := a.StartWith(k, vmac4, vips, cfg); err != nil {
				return err
			}
			if i == 0 {
				fd = a.fd
				var st unix.Stat_t
				if err := unix.Fstat(fd, &st); err != nil {
					return err
				}
				ino = st.Ino
			}
			a.Stop(k)
		}
		return nil
	})
	var st unix.Stat_t
	if a.fd != fd || unix.Fstat(fd, &st) != nil || st.Ino != ino {
		t.Fatalf("socket changed over the cycles: fd %d -> %d", fd, a.fd)
	}
	if fds := newFDs(fds0, openFDs(t)); len(fds) != 1 {
		t.Fatalf("new fds after 1000 Start/Stop cycles: %v, want only the socket", fds)
	}
	settle(t, "goroutine ends after the last Stop", func() bool { return runtime.NumGoroutine() <= g0 })

	// Close with jobs pending (a refresh far away) stops them all.
	r1.MustDo(t, func() error { return a.StartWith(k, vmac4, vips, cfg) })
	if !a.Running(k) {
		t.Fatal("refresh job not running")
	}
	a.Close()
	if a.Running(k) {
		t.Fatal("job running after Close")
	}
	if fds := newFDs(fds0, openFDs(t)); len(fds) != 0 {
		t.Fatalf("new fds after Close: %v", fds)
	}
	settle(t, "no goroutine after Close", func() bool { return runtime.NumGoroutine() <= g0 })
	if err := a.Start(k, vmac4, vips); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// arrivals returns when the frames matching each of match arrived, relative
// to start, until n[i] of each have come.
func arrivals(t *testing.T, sniff *lab.Sniffer, start time.Time, n []int, match ...func([]byte) bool) [][]time.Duration {
	t.Helper()
	at := make([][]time.Duration, len(match))
	done := func() bool {
		for i := range at {
			if len(at[i]) < n[i] {
				return false
			}
		}
		return true
	}
	for !done() {
		f, err := sniff.Next(waitLong, nil)
		if err != nil {
			t.Fatalf("after %v: %v", at, err)
		}
		for i, m := range match {
			if m(f) {
				at[i] = append(at[i], time.Since(start))
			}
		}
	}
	return at
}

// checkSchedule fails unless each arrival is at or after its due time (the
// clock started before Start) and not much later.
func checkSchedule(t *testing.T, name string, got, want []time.Duration) {
	t.Helper()
	const late = 250 * time.Millisecond // generous: CI machines are noisy
	for i := range want {
		if got[i] < want[i] || got[i] > want[i]+late {
			t.Errorf("%s: frame %d at %v, due at %v (all: %v)", name, i, got[i], want[i], got)
		}
	}
}

// TestAnnouncerSchedule: on one Announcer, two jobs with their own
// configuration keep their own schedules: one a burst of three at its
// interval and nothing more, the other the delayed burst and refreshes, each
// refresh a period after the previous burst began [IMPL-13].
func TestAnnouncerSchedule(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	sniff := lab.Sniff(t, r2, "eth0")
	vipA, vipB := netip.MustParseAddr("10.77.0.250"), netip.MustParseAddr("fd77::250")
	kA := AnnounceKey{Interface: "eth0", VRID: 53}
	kB := AnnounceKey{Interface: "eth0", VRID: 54, IPv6: true}
	cfgA := AnnounceConfig{Repeat: 3, Interval: 100 * time.Millisecond}
	cfgB := AnnounceConfig{Repeat: 1, Delay: 300 * time.Millisecond, Refresh: 500 * time.Millisecond}

	a := NewAnnouncer(AnnounceConfig{Repeat: 7}) // the default is not used
	t.Cleanup(a.Close)
	start := time.Now()
	r1.MustDo(t, func() error {
		if err := a.StartWith(kA, vmac4, []netip.Addr{vipA}, cfgA); err != nil {
			return err
		}
		return a.StartWith(kB, vmac6, []netip.Addr{vipB}, cfgB)
	})
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Start took %v: it must not wait for the wire", d)
	}
	got := arrivals(t, sniff, start, []int{3, 4}, isGARP(vipA), isNA(vipB))
	gotA, gotB := got[0], got[1]
	checkSchedule(t, "A", gotA, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond})
	// B: first burst, delayed burst 300 ms later, then every 500 ms from it.
	checkSchedule(t, "B", gotB, []time.Duration{0, 300 * time.Millisecond, 800 * time.Millisecond, 1300 * time.Millisecond})
	if a.Running(kA) {
		t.Error("A still running after its only burst")
	}
	if f, err := sniff.Next(200*time.Millisecond, isGARP(vipA)); err == nil {
		t.Errorf("a fourth GARP for A: % x", f)
	}
	if !a.Running(kB) {
		t.Error("B stopped: refresh runs until Stop")
	}
	a.Stop(kB)
	sniff.Drain()
	if f, err := sniff.Next(700*time.Millisecond, isNA(vipB)); err == nil {
		t.Errorf("NA after Stop: % x", f)
	}
}

// TestAnnouncerInterfaceRecreated: a refresh keeps going after the
// interface is deleted and created again under the same name (a new
// ifindex), on the same socket.
func TestAnnouncerInterfaceRecreated(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	r1 := lan.Nodes[0]
	veth := func() {
		r1.MustIP(t, "link", "add", "ann0", "type", "veth", "peer", "name", "ann1")
		r1.MustIP(t, "link", "set", "ann0", "up")
		r1.MustIP(t, "link", "set", "ann1", "up")
	}
	veth()
	t.Cleanup(func() { _, _ = r1.IP("link", "del", "ann0") })
	vip := netip.MustParseAddr("10.77.0.249")
	k := AnnounceKey{Interface: "ann0", VRID: 55}
	a := NewAnnouncer(AnnounceConfig{})
	t.Cleanup(a.Close)
	sniff := lab.Sniff(t, r1, "ann1")
	r1.MustDo(t, func() error {
		return a.StartWith(k, vmac4, []netip.Addr{vip}, AnnounceConfig{Refresh: 200 * time.Millisecond})
	})
	if _, err := sniff.Next(waitLong, isGARP(vip)); err != nil {
		t.Fatal(err)
	}
	fd := a.fd
	r1.MustIP(t, "link", "del", "ann0")
	veth()
	sniff = lab.Sniff(t, r1, "ann1")
	if _, err := sniff.Next(waitLong, isGARP(vip)); err != nil {
		t.Fatalf("no refresh on the re-created interface: %v", err)
	}
	if a.fd != fd {
		t.Fatal("the socket was reopened")
	}
}
