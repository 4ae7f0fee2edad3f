package daemon

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"govrrp/internal/config"
)

// logBuffer is a log destination the workers and the test share.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// A VIP that the operator (or networkd) gave the interface while the router
// runs is the host's address: the Master does not claim it (it is not
// recorded as installed, so leaving Master leaves it), says so once in an
// error line, and keeps running (issue 12, "Deleting the box's own
// address"; 5798-5.2.4-a).
func TestMasterLeavesHostAddress(t *testing.T) {
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	a.Accept = true
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a}})
	var logs logBuffer
	d.log = slog.New(slog.NewTextHandler(&logs, nil))
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 5*time.Second, "a Master", func() bool { return countStates(d)["Master"] == 1 })
	extra := netip.MustParsePrefix("10.78.1.1/24")
	fn.addrs.setHost("eth0", extra) // the operator's, while a runs
	a2 := a
	a2.Addresses = append(slices.Clone(a.Addresses), extra)
	for i, c := range []config.Router{a2, a, a2} {
		if res := d.Apply(&config.Config{Routers: []config.Router{c}}); !res.OK || !slices.Equal(res.Updated, []string{"a"}) {
			t.Fatalf("reload %d: %+v", i, res)
		}
		d.work.barrier(d.routers["a"].slot)
	}
	if fn.addrs.has(extra.Addr()) || !fn.addrs.hostHas("eth0", extra) {
		t.Fatalf("the host's %v claimed %v, kept %v", extra, fn.addrs.has(extra.Addr()), fn.addrs.hostHas("eth0", extra))
	}
	if slices.Contains(d.rec.recorded(), extra.Addr()) {
		t.Fatalf("the host's %v is in the record: the next start would remove it", extra)
	}
	if n := logs.count("not installed by govrrpd"); n != 1 {
		t.Fatalf("%d error lines about the host's address, want 1:\n%s", n, logs.b.String())
	}
	if st, _ := d.Router("a"); st.State != "Master" || !fn.addrs.has(vipOf(1)) {
		t.Fatalf("a after the host's address: %s, its own VIP installed %v", st.State, fn.addrs.has(vipOf(1)))
	}
}

// An owner (priority 255) whose interface appears after the configuration
// was checked, without the address it owns, cannot be the owner the checks
// require [5798-5.2.4-a]: it waits in Fault (owner-address-missing), opening
// nothing, and a reload once the address is there starts it.
func TestAppearedInterfaceOwnerWaitsForItsAddress(t *testing.T) {
	o := routerCfg("o", 3, 255, 10*time.Millisecond)
	o.Interface = "vlan8"
	cfg := &config.Config{Routers: []config.Router{o}}
	d, fn := fakeDaemon(cfg)
	fn.setIndex("vlan8", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	reason := func() string {
		det, _ := d.Router("o")
		if det.State != "Fault" {
			return det.State
		}
		return det.FaultReason
	}
	d.linkChanged(fn.setIndex("vlan8", 8))
	waitUntil(t, 2*time.Second, "o waiting for its address", func() bool { return reason() == faultOwnerAddress })
	if fn.sock("vlan8") != nil {
		t.Fatal("the owner opened a socket on an interface without its address")
	}
	if res := d.Apply(cfg); !res.OK || reason() != faultOwnerAddress {
		t.Fatalf("reload without the address: %+v, %s", res, reason())
	}
	fn.addrs.setHost("vlan8", o.Addresses[0])
	if res := d.Apply(cfg); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	waitUntil(t, 2*time.Second, "o Master once it has its address", func() bool { return reason() == "Master" })
}

// The record file lists the virtual addresses the daemon has on the
// interfaces, written before each is installed, and nothing else: not the
// VIPs of a router that is not Master (here one waiting for its
// interface), so the next start after a kill -9 exempts no host address
// they may have become. What an earlier instance recorded stays until a
// router's start has removed it; a router that stops takes its addresses
// out; the daemon's stop removes the file (issue 12).
func TestRecordListsInstalledAddresses(t *testing.T) {
	up := routerCfg("up", 1, 100, 10*time.Millisecond)
	late := routerCfg("late", 2, 100, 10*time.Millisecond)
	late.Interface = "vlan7"
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{up, late}})
	fn.setIndex("vlan7", 0)
	d.rec.file = filepath.Join(t.TempDir(), "netns-1.vips")
	leftover := netip.MustParseAddr("10.78.9.9") // a killed instance's, on no router's interface
	if err := config.Record(d.rec.file, []netip.Addr{vipOf(1), leftover}); err != nil {
		t.Fatal(err)
	}
	recorded := func() []netip.Addr {
		got := config.System{}.Recorded(d.rec.file)
		slices.SortFunc(got, func(a, b netip.Addr) int { return a.Compare(b) })
		return got
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	var stop sync.Once
	t.Cleanup(func() { stop.Do(d.Stop) })
	waitUntil(t, 5*time.Second, "up's VIP installed", func() bool { return fn.addrs.has(vipOf(1)) })
	if got, want := recorded(), []netip.Addr{vipOf(1), leftover}; !slices.Equal(got, want) {
		t.Fatalf("recorded %v while up is Master, want %v (never late's %v)", got, want, vipOf(2))
	}
	if res := d.Apply(&config.Config{Routers: []config.Router{late}}); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	waitUntil(t, 2*time.Second, "up's VIP out of the record", func() bool {
		return slices.Equal(recorded(), []netip.Addr{leftover})
	})
	stop.Do(d.Stop)
	if _, err := os.Stat(d.rec.file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("record left after stop: %v", err)
	}
}
