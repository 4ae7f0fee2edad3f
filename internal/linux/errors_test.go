package linux

import (
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// Each layer of an error adds only what its caller lacks: the package
// prefix once, the interface and family once, the syscall's own word and
// nothing of net's wrapping that repeats them. The full messages of the
// socket open are pinned so that a regression to doubled context fails.
func TestErrorsSayContextOnce(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	nd := lan.Nodes[0]
	nd.MustIP(t, "link", "add", "gvd0", "type", "veth", "peer", "name", "gvd1") // no address: no source
	nd.MustIP(t, "link", "set", "gvd0", "up")
	listen := func(cfg ConnConfig) error {
		cfg.Netlink = nd.Handle
		return nd.Do(func() error {
			c, err := Listen(cfg)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	// withoutRaw runs fn on a thread without CAP_NET_RAW, which then dies
	// with fn's goroutine (locked twice: nsrun's unlock leaves it locked).
	withoutRaw := func(fn func() error) error {
		return nd.Do(func() error {
			runtime.LockOSThread()
			hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
			var data [2]unix.CapUserData
			if err := unix.Capget(&hdr, &data[0]); err != nil {
				return err
			}
			data[0].Effective &^= 1 << unix.CAP_NET_RAW
			if err := unix.Capset(&hdr, &data[0]); err != nil {
				return err
			}
			return fn()
		})
	}
	vip := netip.MustParsePrefix("10.77.0.250/24")
	for _, tc := range []struct {
		name string
		err  func() error
		want string
		is   error
	}{
		{name: "socket on a missing interface", err: func() error { return listen(ConnConfig{Interface: "eth9", Family: vrrp.IPv4}) },
			want: "linux: vrrp socket on eth9 (ipv4): Link not found"},
		{name: "send socket on a missing interface", err: func() error {
			return listen(ConnConfig{Interface: "eth9", Family: vrrp.IPv6, SendOnly: true, Source: netip.MustParseAddr("fe80::1")})
		}, want: "linux: vrrp send socket on eth9 (ipv6): Link not found"},
		{name: "socket on an interface without an address", err: func() error { return listen(ConnConfig{Interface: "gvd0", Family: vrrp.IPv4}) },
			want: "linux: vrrp socket on gvd0 (ipv4): no usable source address", is: ErrNoSource},
		{name: "socket without CAP_NET_RAW", err: func() error {
			return withoutRaw(func() error {
				c, err := Listen(ConnConfig{Interface: "eth0", Family: vrrp.IPv4, Netlink: nd.Handle})
				if err == nil {
					c.Close()
				}
				return err
			})
		}, want: "linux: vrrp socket on eth0 (ipv4): socket: operation not permitted", is: unix.EPERM},
		{name: "address on a missing interface", err: func() error { return NewAddresses(nd.Handle).Add("eth9", vip) },
			want: "linux: add 10.77.0.250/24 on eth9: Link not found"},
		{name: "VMAC on a missing parent", err: func() error {
			_, err := NewVMACs(nd.Handle).Create(VMACConfig{Parent: "eth9", VRID: 1, Family: vrrp.IPv4})
			return err
		}, want: "linux: vmac on eth9: Link not found"},
		{name: "the host's address", err: func() error {
			nd.MustIP(t, "addr", "add", "10.77.0.251/24", "dev", "eth0")
			return NewAddresses(nd.Handle).Add("eth0", netip.MustParsePrefix("10.77.0.251/24"))
		}, want: "linux: add 10.77.0.251/24 on eth0: already there, not installed by govrrpd: left alone", is: ErrNotOurs},
		{name: "the host's route", err: func() error {
			nd.MustIP(t, "route", "add", "10.78.9.0/24", "dev", "eth0")
			return NewRoutes(nd.Handle).AddRoute(Route{To: netip.MustParsePrefix("10.78.9.0/24"), Dev: "eth0"})
		}, want: "linux: add route to 10.78.9.0/24: already there, not installed by govrrpd: left alone", is: ErrNotOurs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %q\n want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("%v is not %v", err, tc.is)
			}
			if n := strings.Count(err.Error(), "linux: "); n != 1 {
				t.Fatalf("%q says linux %d times", err, n)
			}
		})
	}
}
