// Package httplimit is the one HTTP server setup of govrrpd's listeners (the
// control socket and the metrics endpoint): a cap on open connections and
// timeouts on slow clients, so that no client can pile up goroutines,
// buffers and file descriptors in the daemon.
package httplimit

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound one listener's clients. Zero fields mean no limit, so each
// caller fills its own defaults.
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

// Server is an http.Server that accepts at most MaxConns connections.
type Server struct {
	*http.Server
	maxConns int
}

// NewServer returns a Server for h with lim.
func NewServer(h http.Handler, lim Limits) *Server {
	return &Server{Server: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
	}, maxConns: lim.MaxConns}
}

// Serve serves ln, at most MaxConns connections at a time when it is set.
func (s *Server) Serve(ln net.Listener) error {
	if s.maxConns > 0 {
		ln = netutil.LimitListener(ln, s.maxConns)
	}
	return s.Server.Serve(ln)
}
