package daemon

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/linux"
)

// unicast_source (keepalived unicast_src_ip): a unicast router's send socket
// sends from it, the state machine knows it as ours (own adverts, the
// tie-break), and it stays when the interface's primary address changes;
// a unicast router without it follows the interface (spec §2, §2.1).
func TestUnicastSource(t *testing.T) {
	src := netip.MustParseAddr("10.77.0.9")
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	a.UnicastPeers, a.UnicastSource = []netip.Addr{peerA4}, src
	b := routerCfg("b", 2, 100, 10*time.Millisecond)
	b.UnicastPeers = []netip.Addr{peerA4}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a, b}})
	fn.addrs.setHost("eth0", netip.PrefixFrom(src, 24)) // a's source is the interface's
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 5*time.Second, "two Masters", func() bool { return countStates(d)["Master"] == 2 })
	fn.mu.Lock()
	senders := fn.senders
	fn.mu.Unlock()
	if len(senders) != 2 || senders[0].Source != src || len(senders[0].Peers) != 1 || senders[1].Source != self4 {
		t.Fatalf("send sockets %+v, want a's from %v and b's from the interface's %v", senders, src, self4)
	}
	keepsOwnSource(t, d, fn, src)
}

// A router whose send socket cannot open says so once: the router from
// the daemon, the socket, device and family from linux, then the cause
// ("send socket: linux: vrrp socket on ..." said the socket twice).
func TestSendSocketErrorSaysItOnce(t *testing.T) {
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	a.UnicastPeers = []netip.Addr{peerA4}
	d, _ := fakeDaemon(&config.Config{Routers: []config.Router{a}})
	d.openSender = func(c linux.ConnConfig) (sender, error) {
		c.Interface = "gvrrp-nx0" // no such device: Listen fails at its lookup
		return linux.Listen(c)
	}
	err := d.Start()
	if err == nil {
		d.Stop()
		t.Fatal("started without its send socket")
	}
	if want := "router a: linux: vrrp send socket on gvrrp-nx0 (ipv4): Link not found"; err.Error() != want {
		t.Fatalf("error %q\n want %q", err, want)
	}
}

// multicast_source (keepalived mcast_src_ip): a multicast router gets a send
// socket of its own from that address, the state machine knows it as ours
// (own adverts, the tie-break), as the primary address the RFC lets a router
// choose among its own [5798-5.1.1.1-a][5798-5.1.2.1-a], and it stays when the
// interface's primary address changes; a router without it keeps sending
// on the interface's shared socket from the primary address.
func TestMulticastSource(t *testing.T) {
	src := netip.MustParseAddr("10.77.0.9")
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	a.MulticastSource = src
	b := routerCfg("b", 2, 100, 10*time.Millisecond)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a, b}})
	fn.addrs.setHost("eth0", netip.PrefixFrom(src, 24)) // a's source is the interface's
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 5*time.Second, "two Masters", func() bool { return countStates(d)["Master"] == 2 })
	fn.mu.Lock()
	senders := fn.senders
	fn.mu.Unlock()
	if len(senders) != 1 || senders[0].Source != src || len(senders[0].Peers) != 0 || senders[0].Interface != "eth0" {
		t.Fatalf("send sockets %+v, want one for a, multicast from %v", senders, src)
	}
	keepsOwnSource(t, d, fn, src)
}

// keepsOwnSource checks that router a uses its configured source src as
// its primary address and sends from it, also after eth0's address
// changes, which router b, without one, follows.
func keepsOwnSource(t *testing.T, d *Daemon, fn *fakeNet, src netip.Addr) {
	t.Helper()
	primary := func(name string) string {
		det, _ := d.Router(name)
		return det.Primary
	}
	if p := primary("a"); p != src.String() {
		t.Fatalf("a's primary %s, want %v", p, src)
	}
	st := fn.link("eth0")
	st.Primary = netip.MustParseAddr("10.77.0.50")
	d.linkChanged(st)
	waitUntil(t, 5*time.Second, "b on the new address", func() bool { return primary("b") == "10.77.0.50" })
	if p := primary("a"); p != src.String() {
		t.Fatalf("a's primary %s after the interface changed, want %v", p, src)
	}
	d.mu.RLock()
	ra := d.routers["a"]
	d.mu.RUnlock()
	var got netip.Addr
	ra.l.do(func() { got = ra.send.Source() })
	if got != src {
		t.Fatalf("a sends from %v, want %v", got, src)
	}
}
