package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"govrrp/internal/httplimit"
)

// The connections and timeouts (tested in internal/httplimit) reach the
// server: zero ones take DefaultLimits, set ones are kept.
func TestNewServerLimits(t *testing.T) {
	def := DefaultLimits().Limits
	if got := NewServer(&fakeBackend{}, Limits{}).Limits(); got != def {
		t.Errorf("zero limits: %+v, want %+v", got, def)
	}
	set := httplimit.Limits{MaxConns: 3, IdleTimeout: time.Second}
	if got, want := NewServer(&fakeBackend{}, Limits{Limits: set}).Limits(), set.Or(def); got != want {
		t.Errorf("limits %+v: %+v, want %+v", set, got, want)
	}
}

// streamBackend gives each subscriber its own channel, fed by feed (when
// set) until the subscriber's context ends, and reports each end on gone.
type streamBackend struct {
	fakeBackend
	feed func(ctx context.Context, ch chan<- Event)
	gone chan struct{}
}

func (s *streamBackend) Subscribe(ctx context.Context, history int) ([]Event, <-chan Event) {
	ch := make(chan Event)
	go func() {
		defer close(ch)
		if s.feed != nil {
			s.feed(ctx, ch)
		}
		<-ctx.Done()
		s.gone <- struct{}{}
	}()
	return nil, ch
}

// serveLimited serves b with lim on a fresh socket.
func serveLimited(t *testing.T, b Backend, lim Limits) (sock string, c *Client) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "s.sock")
	ln, err := Listen(sock, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(b, lim)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock, NewClient(sock)
}

// openStream starts GET /v1/events on a connection of its own and returns
// the answer's status line and the connection.
func openStream(t *testing.T, sock string) (string, net.Conn) {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET /v1/events HTTP/1.1\r\nHost: govrrpd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + strings.TrimSpace(string(b)), conn
	}
	return resp.Status, conn
}

func waitGone(t *testing.T, gone <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the stream was still open after 10s", what)
	}
}

// Event streams above MaxStreams are refused with 503 and a message that
// says why, and a stream that ends frees its place.
func TestStreamCap(t *testing.T) {
	b := &streamBackend{gone: make(chan struct{}, 8)}
	sock, c := serveLimited(t, b, Limits{MaxStreams: 2})
	var conns []net.Conn
	for range 2 {
		status, conn := openStream(t, sock)
		if status != "200 OK" {
			t.Fatalf("stream within the cap: %s", status)
		}
		conns = append(conns, conn)
	}
	status, _ := openStream(t, sock)
	if !strings.HasPrefix(status, "503 ") || !strings.Contains(status, "too many event streams: 2 are open") {
		t.Fatalf("third stream: %s", status)
	}
	err := c.Events(context.Background(), 0, func(Event) {})
	if err == nil || !strings.Contains(err.Error(), "too many event streams") {
		t.Fatalf("Client.Events above the cap: %v", err)
	}
	// The other requests still answer.
	if _, err := c.Routers(context.Background()); err != nil {
		t.Fatal(err)
	}
	conns[0].Close()
	waitGone(t, b.gone, "closed by the client")
	// The handler returns just after the backend saw the end: retry until
	// the place is free.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if status, _ := openStream(t, sock); status == "200 OK" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after one stream closed: %s", status)
		}
	}
}

// A watcher that stops reading is dropped once a write has waited
// WriteTimeout, rather than holding a handler, and the backend's
// subscription with it, forever.
func TestSlowStreamReaderDropped(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	b := &streamBackend{gone: make(chan struct{}, 1), feed: func(ctx context.Context, ch chan<- Event) {
		for {
			select {
			case ch <- Event{Type: "discards", Detail: big}:
			case <-ctx.Done():
				return
			}
		}
	}}
	sock, _ := serveLimited(t, b, Limits{Limits: httplimit.Limits{WriteTimeout: 100 * time.Millisecond}})
	status, _ := openStream(t, sock) // and never read again
	if status != "200 OK" {
		t.Fatal(status)
	}
	waitGone(t, b.gone, "a reader that stopped reading")
}

// A stream outlives ReadTimeout and WriteTimeout: it reads nothing after
// its request, and each write has its own deadline.
func TestStreamOutlivesTimeouts(t *testing.T) {
	const timeout = 50 * time.Millisecond
	send := make(chan struct{})
	b := &streamBackend{gone: make(chan struct{}, 1), feed: func(ctx context.Context, ch chan<- Event) {
		select {
		case <-send:
			ch <- Event{Type: "reload", Detail: "late"}
		case <-ctx.Done():
		}
	}}
	sock, _ := serveLimited(t, b, Limits{Limits: httplimit.Limits{ReadTimeout: timeout, ReadHeaderTimeout: timeout, WriteTimeout: timeout}})
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v1/events HTTP/1.1\r\nHost: govrrpd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%v %v", resp, err)
	}
	// Proving that something does not happen takes waiting: 10 times the
	// deadlines.
	select {
	case <-b.gone:
		t.Fatal("the stream ended at a server deadline")
	case <-time.After(10 * timeout):
	}
	close(send)
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, `"detail":"late"`) {
		t.Fatalf("event after the deadlines: %q %v", line, err)
	}
}

type slowReload struct {
	fakeBackend
	took time.Duration
}

func (s *slowReload) Reload() ReloadResult {
	<-time.After(s.took)
	return ReloadResult{OK: true}
}

// WriteTimeout counts from when the answer is ready: a reload that takes
// longer to do is still answered.
func TestSlowReloadAnswered(t *testing.T) {
	const timeout = 50 * time.Millisecond
	_, c := serveLimited(t, &slowReload{took: 5 * timeout}, Limits{Limits: httplimit.Limits{WriteTimeout: timeout}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := c.Reload(ctx); err != nil || !res.OK {
		t.Fatalf("reload that took %v with WriteTimeout %v: %+v %v", 5*timeout, timeout, res, err)
	}
}

// A client that sends a whole header and then trickles its body holds a
// busy place, one a newcomer cannot take, until ReadTimeout: the control
// socket's bodies are small (at most 4 KiB, a log level), so its
// ReadTimeout is the header's and 32 such clients beside 32 streams
// cannot stall `govrrp status` for longer than a header may take.
func TestSlowBodyClosed(t *testing.T) {
	if def := DefaultLimits(); def.ReadTimeout > def.ReadHeaderTimeout {
		t.Errorf("DefaultLimits: ReadTimeout %v beyond ReadHeaderTimeout %v lets a trickling body hold a place that long", def.ReadTimeout, def.ReadHeaderTimeout)
	}
	const timeout = 100 * time.Millisecond
	sock, _ := serveLimited(t, &fakeBackend{}, Limits{Limits: httplimit.Limits{ReadHeaderTimeout: time.Minute, ReadTimeout: timeout}})
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "PUT /v1/log-level HTTP/1.1\r\nHost: govrrpd\r\nContent-Length: 4000\r\n\r\n{\"lev"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("trickled body: %v %v", resp, err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("the connection was not closed: %v", err)
	}
}
