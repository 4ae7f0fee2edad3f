package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/test/interop"
)

// govrrpd is govrrpd in a router namespace; it implements interop.Peer for
// the failover cases (one VR per interop.VR on eth0) and runs a raw routers
// section for the scale cases.
type govrrpd struct {
	name    string
	node    *lab.Node
	dir     string
	bin     string
	vrs     []interop.VR
	routers string // YAML routers section; from vrs when empty
	metrics string // metrics_listen inside the namespace, "" for none
	args    []string

	proc   *lab.Proc
	client *api.Client
}

func newGovrrpd(t testing.TB, bin string, nd *lab.Node, dir string, vrs ...interop.VR) *govrrpd {
	t.Helper()
	short := nd.Short
	g := &govrrpd{name: short + "/govrrpd", node: nd, dir: filepath.Join(dir, short+"-govrrpd"), bin: bin, vrs: vrs}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	g.client = api.NewClient(g.path("govrrpd.sock"))
	return g
}

func (g *govrrpd) path(f string) string { return filepath.Join(g.dir, f) }

func vrName(v interop.VR) string { return fmt.Sprintf("vr%d-%d", v.VRID, int(v.Family)) }

func (g *govrrpd) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "control_socket: %s\nlog: {level: info}\n", g.path("govrrpd.sock"))
	if g.metrics != "" {
		fmt.Fprintf(&b, "metrics_listen: %s\n", g.metrics)
	}
	b.WriteString("routers:\n")
	if g.routers != "" {
		b.WriteString(g.routers)
		return b.String()
	}
	// accept: the failover runs probe the VIP, and keepalived beside it
	// accepts by default.
	for _, v := range g.vrs {
		var vips []string
		for _, p := range v.VIPs {
			vips = append(vips, p.String())
		}
		fmt.Fprintf(&b, "  - {name: %s, interface: eth0, vrid: %d, version: %d, priority: %d, advert_interval: %v, preempt: %v, accept: true, addresses: [%s]}\n",
			vrName(v), v.VRID, v.Version, v.Priority, v.Interval, !v.NoPreempt, strings.Join(vips, ", "))
	}
	return b.String()
}

// Name implements interop.Peer.
func (g *govrrpd) Name() string { return g.name }

// Node implements interop.Peer.
func (g *govrrpd) Node() *lab.Node { return g.node }

// VRs implements interop.Peer.
func (g *govrrpd) VRs() []interop.VR { return g.vrs }

// Start implements interop.Peer: write the YAML, run govrrpd, wait for its API.
func (g *govrrpd) Start(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(g.path("govrrpd.yaml"), []byte(g.config()), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{g.bin, "-c", g.path("govrrpd.yaml")}, g.args...)
	g.proc = lab.StartProc(t, g.node, g.name, g.path("govrrpd.log"), argv...)
	if !lab.Poll(30*time.Second, 10*time.Millisecond, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := g.client.Routers(ctx)
		return err == nil || !g.proc.Running()
	}) || !g.proc.Running() {
		t.Fatalf("%s did not start:\n%s", g.name, tailFile(g.path("govrrpd.log"), 30))
	}
}

// Stop implements interop.Peer (SIGTERM: masters send priority 0).
func (g *govrrpd) Stop(t testing.TB) {
	if g.proc != nil {
		g.proc.Stop(t, syscall.SIGTERM)
	}
}

// Kill implements interop.Peer.
func (g *govrrpd) Kill(t testing.TB) {
	if g.proc != nil {
		g.proc.KillGroup()
		g.proc.Wait(5 * time.Second)
	}
}

// Running implements interop.Peer.
func (g *govrrpd) Running() bool { return g.proc != nil && g.proc.Running() }

func (g *govrrpd) statuses() ([]api.RouterStatus, error) {
	if !g.Running() {
		return nil, fmt.Errorf("%s: not running", g.name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return g.client.Routers(ctx)
}

// State implements interop.Peer.
func (g *govrrpd) State(k interop.VRKey) (interop.State, error) {
	rs, err := g.statuses()
	if err != nil {
		return interop.Unknown, err
	}
	for _, r := range rs {
		if r.VRID == k.VRID && r.Family == k.Family.String() {
			return mapState(r.State), nil
		}
	}
	return interop.Unknown, fmt.Errorf("%s: no %v", g.name, k)
}

func mapState(s string) interop.State {
	switch s {
	case "Master":
		return interop.Master
	case "Backup":
		return interop.Backup
	case "Fault":
		return interop.Fault
	case "Initialize":
		return interop.Init
	}
	return interop.Unknown
}

// SetPriority implements interop.Peer; the benchmark never changes priorities.
func (g *govrrpd) SetPriority(t testing.TB, vrid, prio uint8) {
	t.Fatalf("%s: SetPriority is not used by the benchmark", g.name)
}

// Source implements interop.Peer.
func (g *govrrpd) Source(k interop.VRKey) (netip.Addr, error) {
	if k.Family == interop.IPv4 {
		return g.node.V4.Addr(), nil
	}
	return g.node.LinkLocal("eth0")
}

// Logs implements interop.Peer.
func (g *govrrpd) Logs() string { b, _ := os.ReadFile(g.path("govrrpd.log")); return string(b) }

// Dump implements interop.Peer.
func (g *govrrpd) Dump() string {
	rs, err := g.statuses()
	if err != nil {
		return err.Error()
	}
	b, _ := json.MarshalIndent(rs, "", "  ")
	return string(b)
}

// memstats reads runtime memstats from the daemon's expvar endpoint on its
// metrics listener (inside the namespace).
func (g *govrrpd) memstats() (mallocs, frees, heapAlloc uint64, err error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := g.node.Do(func() (err error) {
			c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + g.metrics + "/debug/vars")
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	var v struct {
		Memstats struct{ Mallocs, Frees, HeapAlloc uint64 } `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, 0, 0, err
	}
	return v.Memstats.Mallocs, v.Memstats.Frees, v.Memstats.HeapAlloc, nil
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
