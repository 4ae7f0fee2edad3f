package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
	"govrrp/internal/httplimit"
)

// serveMetrics serves NewServer(lim, cs...) on a loopback port and returns
// its address.
func serveMetrics(t *testing.T, lim Limits, cs ...prometheus.Collector) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(lim, cs...)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// request sends one request on a connection of its own and returns the
// status code and body.
func request(ctx context.Context, method, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func mustRequest(t *testing.T, method, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, body, err := request(ctx, method, url)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return code, body
}

// The connections and timeouts (tested in internal/httplimit) reach the
// server: zero ones take DefaultLimits, set ones are kept.
func TestServerLimits(t *testing.T) {
	def := DefaultLimits().Limits
	if got := NewServer(Limits{}).Limits(); got != def {
		t.Errorf("zero limits: %+v, want %+v", got, def)
	}
	set := httplimit.Limits{MaxConns: 3, IdleTimeout: time.Second}
	if got, want := NewServer(Limits{Limits: set}).Limits(), set.Or(def); got != want {
		t.Errorf("limits %+v: %+v, want %+v", set, got, want)
	}
}

// Only GET and HEAD of /metrics (and of / and /debug/vars) are served: the
// endpoint is reachable from the network and changes nothing.
func TestServerMethods(t *testing.T) {
	addr := serveMetrics(t, Limits{}, NewDaemon(func() api.DaemonStatus { return api.DaemonStatus{EventStreams: 2, EventStreamsDropped: 3} }))
	base := "http://" + addr
	for _, c := range []struct {
		method, path string
		code         int
		has          string
	}{
		{"GET", "/metrics", 200, "govrrp_event_streams_dropped_total 3\n"},
		{"GET", "/metrics", 200, "govrrp_event_streams 2\n"},
		{"GET", "/metrics", 200, "go_goroutines "},
		{"GET", "/metrics", 200, "process_open_fds "},
		{"HEAD", "/metrics", 200, ""},
		{"POST", "/metrics", 405, ""},
		{"PUT", "/metrics", 405, ""},
		{"DELETE", "/metrics", 405, ""},
		{"GET", "/", 200, "/metrics"},
		{"POST", "/", 405, ""},
		{"GET", "/debug/vars", 200, `"memstats"`},
		{"GET", "/debug/pprof/", 404, ""},
		{"GET", "/metricsx", 404, ""},
	} {
		code, body := mustRequest(t, c.method, base+c.path)
		if code != c.code || !strings.Contains(body, c.has) {
			t.Errorf("%s %s: %d, want %d with %q in %.200q", c.method, c.path, code, c.code, c.has, body)
		}
	}
}

// blocking is a collector whose Collect waits for release.
type blocking struct {
	entered chan struct{}
	release chan struct{}
}

var descBlocking = prometheus.NewDesc("govrrp_test_blocking", "Test.", nil, nil)

func (b *blocking) Describe(ch chan<- *prometheus.Desc) { ch <- descBlocking }

func (b *blocking) Collect(ch chan<- prometheus.Metric) {
	select {
	case b.entered <- struct{}{}:
	default: // only the first scrape is waited for
	}
	<-b.release
	ch <- prometheus.MustNewConstMetric(descBlocking, prometheus.GaugeValue, 1)
}

// Concurrent scrapes above MaxRequestsInFlight are answered 503 at once,
// and a scrape whose gathering outlasts Timeout is answered 503 then,
// rather than holding its client.
func TestServerScrapeLimits(t *testing.T) {
	b := &blocking{entered: make(chan struct{}, 1), release: make(chan struct{})}
	addr := serveMetrics(t, Limits{MaxRequestsInFlight: 1, Timeout: 100 * time.Millisecond}, b)
	url := "http://" + addr + "/metrics"
	first := make(chan int, 1)
	go func() {
		code, _, _ := request(context.Background(), "GET", url)
		first <- code
	}()
	<-b.entered
	if code, body := mustRequest(t, "GET", url); code != http.StatusServiceUnavailable {
		t.Errorf("a second scrape during the first: %d %q, want 503", code, body)
	}
	if code := <-first; code != http.StatusServiceUnavailable {
		t.Errorf("a scrape whose gathering outlasts Timeout: %d, want 503", code)
	}
	// Its gathering goes on and holds its place: the work under way stays
	// bounded by MaxRequestsInFlight whatever the clients do.
	if code, body := mustRequest(t, "GET", url); code != http.StatusServiceUnavailable || !strings.Contains(body, "concurrent") {
		t.Errorf("a scrape while an abandoned one still gathers: %d %q, want 503", code, body)
	}
	close(b.release)
	// The abandoned gathering ends and frees its place.
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, _ := mustRequest(t, "GET", url)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the gathering ended: %d", code)
		}
	}
}

// A scrape is a GET without a body, so the whole request gets no longer
// than its header: a client trickling a body would otherwise hold one of
// the 16 places for ReadTimeout (httplimit:TestSlowBodyClosedByReadTimeout
// shows the server closes it then).
func TestDefaultLimitsNoSlowBody(t *testing.T) {
	if def := DefaultLimits(); def.ReadTimeout > def.ReadHeaderTimeout {
		t.Errorf("DefaultLimits: ReadTimeout %v beyond ReadHeaderTimeout %v", def.ReadTimeout, def.ReadHeaderTimeout)
	}
}
