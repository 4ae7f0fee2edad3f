// Package httplimit is the one HTTP server setup of govrrpd's listeners (the
// control socket and the metrics endpoint): a cap on open connections and
// timeouts on slow clients, so that no client can pile up goroutines,
// buffers and file descriptors in the daemon.
package httplimit

import (
	"cmp"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Limits bound one listener's clients. Zero fields mean no limit to
// NewServer; each listener fills its own defaults with Or.
type Limits struct {
	// MaxConns bounds the open connections. At the cap a new connection
	// takes the place of the oldest one not being answered (see
	// limitListener); when every one is being answered it waits in the
	// socket's backlog until one closes or goes idle.
	MaxConns int
	// ReadHeaderTimeout and ReadTimeout bound reading a request, its
	// header and the whole of it with its body. A connection whose header
	// is read is busy (it cannot be evicted) while its body is read, so
	// ReadTimeout is what a client trickling its body holds a place for.
	ReadHeaderTimeout, ReadTimeout time.Duration
	// WriteTimeout bounds writing an answer, from the end of the request.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection with no request.
	IdleTimeout time.Duration
}

// Or returns l with its zero fields taken from def.
func (l Limits) Or(def Limits) Limits {
	return Limits{
		MaxConns:          cmp.Or(l.MaxConns, def.MaxConns),
		ReadHeaderTimeout: cmp.Or(l.ReadHeaderTimeout, def.ReadHeaderTimeout),
		ReadTimeout:       cmp.Or(l.ReadTimeout, def.ReadTimeout),
		WriteTimeout:      cmp.Or(l.WriteTimeout, def.WriteTimeout),
		IdleTimeout:       cmp.Or(l.IdleTimeout, def.IdleTimeout),
	}
}

// Server is an http.Server that holds at most MaxConns connections.
type Server struct {
	*http.Server
	lim Limits
}

// NewServer returns a Server for h with lim.
func NewServer(h http.Handler, lim Limits) *Server {
	return &Server{Server: &http.Server{
		Handler: h,
		// A connection is busy from the moment its request is read
		// (StateActive, reported before the handler runs) until its answer
		// is written (StateIdle) or it closes: only while not busy may a
		// newcomer take its place.
		ConnState: func(c net.Conn, st http.ConnState) {
			if lc, ok := c.(*limitConn); ok && (st == http.StateActive || st == http.StateIdle) {
				lc.setBusy(st == http.StateActive)
			}
		},
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
	}, lim: lim}
}

// Limits returns the limits s was made with.
func (s *Server) Limits() Limits { return s.lim }

// Serve serves ln, at most MaxConns connections at a time when it is set.
func (s *Server) Serve(ln net.Listener) error {
	if s.lim.MaxConns > 0 {
		l := &limitListener{Listener: ln, max: s.lim.MaxConns}
		l.cond = sync.NewCond(&l.mu)
		ln = l
	}
	return s.Server.Serve(ln)
}

// limitListener holds at most max connections. At the cap, a new connection
// takes the place of the oldest one that is not being answered: one that
// has not sent a whole request header yet (silent, or stopped within it)
// or a kept-alive one waiting for its next request. Its timeout would close
// it anyway; closing it now means that such clients, however many
// connections they open, never make a client that sends its request at
// once (`govrrp status`) wait. Only when every place is busy (its header
// read: for at most ReadTimeout while its body is read, then WriteTimeout
// from the end of the request or as the handler sets; the API caps its
// event streams below MaxConns) does the newcomer wait, until one closes
// or goes idle.
type limitListener struct {
	net.Listener
	max    int
	mu     sync.Mutex
	cond   *sync.Cond   // signalled when a connection leaves open, or at Close
	open   []*limitConn // oldest first
	closed bool
}

type limitConn struct {
	net.Conn
	l *limitListener
	// Guarded by l.mu.
	busy, gone bool
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitConn{Conn: c, l: l}
	l.mu.Lock()
	for len(l.open) >= l.max {
		if l.closed {
			// Shutdown waits for Serve to return: not for a place.
			l.mu.Unlock()
			c.Close()
			return nil, net.ErrClosed
		}
		i := slices.IndexFunc(l.open, func(o *limitConn) bool { return !o.busy })
		if i < 0 {
			l.cond.Wait()
			continue
		}
		old := l.open[i]
		l.forget(old)
		l.mu.Unlock()
		old.Conn.Close() // its server goroutine sees the error and ends
		l.mu.Lock()
	}
	l.open = append(l.open, lc)
	l.mu.Unlock()
	return lc, nil
}

func (l *limitListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// forget removes c from open. Called with l.mu held.
func (l *limitListener) forget(c *limitConn) {
	if c.gone {
		return
	}
	c.gone = true
	l.open = slices.DeleteFunc(l.open, func(o *limitConn) bool { return o == c })
	l.cond.Signal()
}

func (c *limitConn) setBusy(b bool) {
	c.l.mu.Lock()
	c.busy = b
	if !b {
		c.l.cond.Signal() // a waiting newcomer may take its place now
	}
	c.l.mu.Unlock()
}

func (c *limitConn) Close() error {
	c.l.mu.Lock()
	c.l.forget(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
