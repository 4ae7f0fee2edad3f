// Package httplimit is the one HTTP server setup of govrrpd's listeners (the
// control socket and the metrics endpoint): a cap on open connections and
// timeouts on slow clients, so that no client can pile up goroutines,
// buffers and file descriptors in the daemon.
package httplimit

import (
	"cmp"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound one listener's clients. Zero fields mean no limit to
// NewServer; each listener fills its own defaults with Or.
type Limits struct {
	// MaxConns bounds the open connections; the next one waits in the
	// socket's backlog until one closes.
	MaxConns int
	// ReadHeaderTimeout and ReadTimeout bound reading a request.
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

// Server is an http.Server that accepts at most MaxConns connections.
type Server struct {
	*http.Server
	lim Limits
}

// NewServer returns a Server for h with lim.
func NewServer(h http.Handler, lim Limits) *Server {
	return &Server{Server: &http.Server{
		Handler:           h,
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
		ln = netutil.LimitListener(ln, s.lim.MaxConns)
	}
	return s.Server.Serve(ln)
}
