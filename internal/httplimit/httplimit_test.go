package httplimit

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve serves h with lim on a loopback port and returns its address.
func serve(t *testing.T, h http.Handler, lim Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, lim)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// hello answers every request with a short text.
var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello\n") })

// get sends GET / on a connection of its own and returns the status code.
func get(ctx context.Context, addr string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/", nil)
	if err != nil {
		return 0, err
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func mustGet(t *testing.T, addr string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := get(ctx, addr)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	return code
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
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

// Zero fields take the defaults; set ones are kept.
func TestOr(t *testing.T) {
	def := Limits{MaxConns: 8, ReadHeaderTimeout: 1, ReadTimeout: 2, WriteTimeout: 3, IdleTimeout: 4}
	if got := (Limits{}).Or(def); got != def {
		t.Errorf("zero limits: %+v, want %+v", got, def)
	}
	set := Limits{MaxConns: 1, ReadHeaderTimeout: 10, ReadTimeout: 20, WriteTimeout: 30, IdleTimeout: 40}
	if got := set.Or(def); got != set {
		t.Errorf("set limits: %+v, want %+v", got, set)
	}
	if got := (Limits{WriteTimeout: 30}).Or(def); got != (Limits{MaxConns: 8, ReadHeaderTimeout: 1, ReadTimeout: 2, WriteTimeout: 30, IdleTimeout: 4}) {
		t.Errorf("one set: %+v", got)
	}
}

// At MaxConns a new connection takes the place of the oldest that is not
// being answered (one that sent nothing, or half a header): a client that
// sends its request at once is served at once, however many places silent
// clients hold; the evicted one is closed as its timeout would.
func TestConnectionCapEvictsUnanswered(t *testing.T) {
	addr := serve(t, hello, Limits{MaxConns: 2, ReadHeaderTimeout: time.Minute})
	silent := dial(t, addr)
	half := dial(t, addr)
	if _, err := io.WriteString(half, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code, err := get(ctx, addr); err != nil || code != 200 {
		t.Fatalf("with two places held by clients that sent no whole request: %d %v", code, err)
	}
	if err := readEOF(silent, silent); err != nil {
		t.Fatalf("the oldest, silent connection was not closed: %v", err)
	}
	dial(t, addr) // the cap again: half is now the oldest
	if code, err := get(ctx, addr); err != nil || code != 200 {
		t.Fatalf("second request: %d %v", code, err)
	}
	if err := readEOF(half, half); err != nil {
		t.Fatalf("the connection halfway through its header was not closed: %v", err)
	}
}

// A connection being answered keeps its place: with every place busy the
// next waits until one is done.
func TestConnectionCapWaitsForBusy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "hello\n")
	}), Limits{MaxConns: 2, ReadHeaderTimeout: time.Minute})
	slow := make(chan error, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("GET", "http://"+addr+"/slow", nil)
			tr := &http.Transport{DisableKeepAlives: true}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			slow <- err
		}()
	}
	<-started
	<-started
	// Proving that something does not happen takes waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if code, err := get(ctx, addr); err == nil {
		t.Fatalf("a third connection was served (%d) with two being answered", code)
	}
	close(release)
	for range 2 {
		if err := <-slow; err != nil {
			t.Fatalf("a busy connection was cut: %v", err)
		}
	}
	if code := mustGet(t, addr); code != 200 {
		t.Fatalf("after they were answered: %d", code)
	}
}

// A newcomer waiting for a place does not hold up Shutdown (which waits
// for Serve to return) while every place is busy.
func TestShutdownWithNewcomerWaiting(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	defer close(release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	}), Limits{MaxConns: 1, ReadHeaderTimeout: time.Minute})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	busy := dial(t, ln.Addr().String())
	if _, err := io.WriteString(busy, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-started
	// The newcomer: accepted by the kernel, waiting in Accept for a place.
	dial(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	go func() { _ = srv.Shutdown(ctx) }() // the busy one keeps it to the deadline
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waits for a place after Shutdown")
	}
}

// A client that never sends its request is closed after ReadHeaderTimeout,
// one that stops halfway through after ReadTimeout, and a kept-alive one
// with no further request after IdleTimeout: none holds a place for long.
func TestSlowClientsClosed(t *testing.T) {
	const timeout = 100 * time.Millisecond
	addr := serve(t, hello, Limits{ReadHeaderTimeout: timeout, ReadTimeout: timeout, IdleTimeout: timeout})

	silent := dial(t, addr)
	if err := readEOF(silent, silent); err != nil {
		t.Fatalf("connection that never sent a request: %v", err)
	}

	halfway := dial(t, addr)
	if _, err := io.WriteString(halfway, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := readEOF(halfway, halfway); err != nil {
		t.Fatalf("connection that stopped within its request: %v", err)
	}

	idle := dial(t, addr)
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

// A client that stops reading its answer is dropped after WriteTimeout,
// and its place with it, rather than holding a connection forever.
func TestStalledReaderDropped(t *testing.T) {
	// Several MB: more than the sockets between the server and a client
	// that stops reading can hold.
	big := strings.Repeat("x", 8<<20)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, big)
		}
	}), Limits{MaxConns: 1, WriteTimeout: 200 * time.Millisecond})
	stalled := dial(t, addr)
	_ = stalled.(*net.TCPConn).SetReadBuffer(4096)
	if _, err := io.WriteString(stalled, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The only place is the stalled client's until the server gives up.
	if code := mustGet(t, addr); code != 200 {
		t.Fatalf("after the stalled client: %d", code)
	}
}

// fakeConn is a connection that only records that it was closed.
type fakeConn struct {
	net.Conn
	closed chan struct{}
}

func (c *fakeConn) Close() error { close(c.closed); return nil }

// oneConnListener hands out its connections, one per Accept.
type oneConnListener struct {
	net.Listener
	conns chan net.Conn
}

func (l oneConnListener) Accept() (net.Conn, error) { return <-l.conns, nil }

// A connection is busy from the moment its request is read (StateActive,
// reported before the handler runs) until it is answered (StateIdle): no
// newcomer may evict it in between, when the request is read but its
// handler has not started yet.
func TestActiveConnectionNotEvicted(t *testing.T) {
	srv := NewServer(hello, Limits{MaxConns: 1})
	l := &limitListener{Listener: oneConnListener{conns: make(chan net.Conn, 2)}, max: 1}
	l.cond = sync.NewCond(&l.mu)
	first := &fakeConn{closed: make(chan struct{})}
	l.Listener.(oneConnListener).conns <- first
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv.ConnState(c, http.StateActive) // the request is read
	l.Listener.(oneConnListener).conns <- &fakeConn{closed: make(chan struct{})}
	accepted := make(chan struct{})
	go func() {
		if _, err := l.Accept(); err == nil {
			close(accepted)
		}
	}()
	select {
	case <-first.closed:
		t.Fatal("a connection whose request was read was evicted for a newcomer")
	case <-accepted:
		t.Fatal("a newcomer got a place while the only one was active")
	case <-time.After(200 * time.Millisecond): // proving a non-event takes waiting
	}
	srv.ConnState(c, http.StateIdle) // answered: now its place may go
	select {
	case <-first.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("an idle connection kept its place against a newcomer")
	}
	<-accepted
}

// A client that sends a whole header and then trickles (here: withholds)
// its body holds a busy place, which nobody may take: ReadTimeout closes
// it, so ReadTimeout is what such a client can hold a place for.
func TestSlowBodyClosedByReadTimeout(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}), Limits{MaxConns: 1, ReadHeaderTimeout: time.Minute, ReadTimeout: 200 * time.Millisecond})
	slow := dial(t, addr)
	if _, err := io.WriteString(slow, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\nab"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(slow)
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := br.ReadByte(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("the client trickling its body was not closed: %v", err)
			}
			break
		}
	}
	if code := mustGet(t, addr); code != 200 {
		t.Fatalf("after the slow body: %d", code)
	}
}
