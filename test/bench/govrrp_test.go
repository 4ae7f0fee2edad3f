package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/test/interop"
)

// newGovrrpd is govrrpd as the benchmark runs it: interop's Govrrp peer
// (one VR per interop.VR on eth0, or a routers section of its own for the
// scale cases) on binary bin, logging at info level as an operator would.
func newGovrrpd(t testing.TB, bin string, nd *lab.Node, dir string, vrs ...interop.VR) *interop.Govrrp {
	t.Helper()
	g := interop.NewGovrrpBin(t, bin, nd, dir, vrs...)
	g.Log = "{level: info}"
	g.Daemon().APIWait = 30 * time.Second
	return g
}

// vrName is v's name in the routers sections the benchmark writes.
func vrName(v interop.VR) string { return fmt.Sprintf("vr%d-%d", v.VRID, int(v.Family)) }

// memstats reads runtime memstats from the daemon's expvar endpoint on its
// metrics listener addr (inside the namespace).
func memstats(g *interop.Govrrp, addr string) (mallocs, frees, heapAlloc uint64, err error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := g.Node().Do(func() (err error) {
			c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + addr + "/debug/vars")
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
