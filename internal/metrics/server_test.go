package metrics

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
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

// Above MaxConns a connection waits to be served until one closes.
func TestServerConnectionCap(t *testing.T) {
	addr := serveMetrics(t, Limits{MaxConns: 2, ReadHeaderTimeout: time.Minute})
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		held = append(held, conn)
	}
	// Proving that something does not happen takes waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if code, _, err := request(ctx, "GET", "http://"+addr+"/metrics"); err == nil {
		t.Fatalf("a third connection was served (%d) with two held", code)
	}
	held[0].Close()
	if code, _ := mustRequest(t, "GET", "http://"+addr+"/metrics"); code != 200 {
		t.Fatalf("after one closed: %d", code)
	}
}

// readEOF reports whether the server closes conn within 10s.
func readEOF(conn net.Conn, r io.Reader) error {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := r.Read(make([]byte, 1))
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// A client that never sends its request is closed after ReadHeaderTimeout,
// one that stops halfway through after ReadTimeout, and a kept-alive one
// with no further request after IdleTimeout: none holds a place for long.
func TestServerSlowClientsClosed(t *testing.T) {
	const timeout = 100 * time.Millisecond
	addr := serveMetrics(t, Limits{ReadHeaderTimeout: timeout, ReadTimeout: timeout, IdleTimeout: timeout})
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	silent := dial()
	if err := readEOF(silent, silent); err != nil {
		t.Fatalf("connection that never sent a request: %v", err)
	}

	halfway := dial()
	if _, err := io.WriteString(halfway, "GET /metrics HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := readEOF(halfway, halfway); err != nil {
		t.Fatalf("connection that stopped within its request: %v", err)
	}

	idle := dial()
	if _, err := io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("%v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if err := readEOF(idle, br); err != nil {
		t.Fatalf("idle kept-alive connection: %v", err)
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

// wide is a collector of n series with a long label each: an answer of
// several MB, more than the sockets between a server and a client that
// stops reading can hold.
type wide struct{ n int }

var descWide = prometheus.NewDesc("govrrp_test_wide", "Test.", []string{"pad"}, nil)

func (w wide) Describe(ch chan<- *prometheus.Desc) { ch <- descWide }

func (w wide) Collect(ch chan<- prometheus.Metric) {
	pad := strings.Repeat("x", 1000)
	for i := range w.n {
		ch <- prometheus.MustNewConstMetric(descWide, prometheus.GaugeValue, 1, pad+strconv.Itoa(i))
	}
}

// A scraper that stops reading its answer is dropped after WriteTimeout,
// and its place with it, rather than holding a connection forever.
func TestServerStalledReaderDropped(t *testing.T) {
	addr := serveMetrics(t, Limits{MaxConns: 1, WriteTimeout: 200 * time.Millisecond}, wide{n: 8000})
	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	_ = stalled.(*net.TCPConn).SetReadBuffer(4096)
	// No Accept-Encoding: the answer is the whole 8 MB, never read.
	if _, err := io.WriteString(stalled, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The only place is the stalled scraper's until the server gives up.
	if code, _ := mustRequest(t, "GET", "http://"+addr+"/"); code != 200 {
		t.Fatalf("after the stalled scraper: %d", code)
	}
}
