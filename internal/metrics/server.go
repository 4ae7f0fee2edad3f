package metrics

import (
	"cmp"
	"expvar"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"govrrp/internal/httplimit"
)

// Limits bound what the clients of metrics_listen can hold. Unlike the
// control socket, that address is usually reachable from the network, so
// anyone there can connect: a scraper that hangs, or many of them, must not
// pile up goroutines, fds and concurrent gatherings in the daemon.
type Limits struct {
	// Connections and timeouts. WriteTimeout bounds answering, from the
	// end of the request: it is above Timeout so that the 503 of a slow
	// gathering is still written.
	httplimit.Limits
	// MaxRequestsInFlight bounds the concurrent scrapes; the next is
	// answered 503 at once. A scrape abandoned at Timeout still holds its
	// place until its gathering ends.
	MaxRequestsInFlight int
	// Timeout answers a scrape 503 when gathering takes longer.
	Timeout time.Duration
}

// DefaultLimits are govrrpd's: a few Prometheus servers scraping every 15 s
// or more, each answer gathered in milliseconds. Timeout is Prometheus'
// default scrape_timeout, after which the scraper gives up anyway.
func DefaultLimits() Limits {
	return Limits{MaxRequestsInFlight: 4, Timeout: 10 * time.Second, Limits: httplimit.Limits{MaxConns: 16,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: 30 * time.Second}}
}

// Server serves the metrics on a listener with Limits.
type Server = httplimit.Server

// NewServer returns the server of metrics_listen: GET (or HEAD) /metrics
// gathers cs, govrrp_build_info and the Go runtime's and the process's collectors, /debug/vars
// is the runtime's memstats as JSON (expvar; the benchmarks read it at a
// constant cost), / says where to look, and everything else is 404, or 405
// for another method. Zero fields of lim take DefaultLimits.
func NewServer(lim Limits, cs ...prometheus.Collector) *Server {
	def := DefaultLimits()
	lim.Limits = lim.Limits.Or(def.Limits)
	lim.MaxRequestsInFlight = cmp.Or(lim.MaxRequestsInFlight, def.MaxRequestsInFlight)
	lim.Timeout = cmp.Or(lim.Timeout, def.Timeout)
	reg := prometheus.NewRegistry()
	reg.MustRegister(cs...)
	reg.MustRegister(NewBuildInfo())
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	// A GET pattern matches HEAD too; another method gets 405.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{MaxRequestsInFlight: lim.MaxRequestsInFlight, Timeout: lim.Timeout}))
	mux.Handle("GET /debug/vars", expvar.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "govrrpd: Prometheus metrics at /metrics\n")
	})
	return httplimit.NewServer(mux, lim.Limits)
}
