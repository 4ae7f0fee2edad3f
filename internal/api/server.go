package api

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"govrrp/internal/httplimit"
)

// Backend is what the daemon exposes to the API.
type Backend interface {
	Routers() []RouterStatus
	Router(name string) (RouterDetail, bool)
	// Daemon returns the daemon-wide counters.
	Daemon() DaemonStatus
	// Interfaces returns the counters of every interface and family a
	// router runs on.
	Interfaces() []InterfaceStatus
	// BFD returns the BFD sessions and their listeners' drops.
	BFD() BFDStatus
	// Subscribe returns up to history past events, then a channel of new
	// ones that closes when ctx ends or the subscriber falls too far behind.
	Subscribe(ctx context.Context, history int) ([]Event, <-chan Event)
	Reload() ReloadResult
	// SetDisabled takes the named router out of service (disabled) or puts
	// it back; false when there is no such router. Idempotent.
	SetDisabled(name string, disabled bool) (AdminResult, bool)
	// LogLevel returns the daemon's log level; SetLogLevel changes it, or
	// refuses a name that is not a level (ParseLogLevel).
	LogLevel() string
	SetLogLevel(level string) error
}

// Limits bound what the clients of the control socket can hold. The socket
// is only open to root and control_group, but a stuck script or a watcher
// that stopped reading must not pile up goroutines, buffers and fds in the
// daemon, nor lock the operator out.
type Limits struct {
	// Connections and timeouts. WriteTimeout bounds writing one answer once
	// it is ready (a reload of thousands of routers may take longer to
	// prepare), and on an event stream each write: a watcher that stops
	// reading is dropped after it.
	httplimit.Limits
	// MaxStreams bounds the open /v1/events streams; the next is refused
	// with 503. It is below MaxConns so that streams alone never take the
	// connections `govrrp status` needs.
	MaxStreams int
}

// DefaultLimits are govrrpd's: a handful of operators and monitoring
// agents, each with a watch or two, and requests answered in milliseconds.
// A request's body is at most 4 KiB (a log level), sent with its header, so
// the whole request gets the header's time: a client trickling its body is
// busy (no newcomer can take its place) and must not hold it longer.
func DefaultLimits() Limits {
	return Limits{MaxStreams: 32, Limits: httplimit.Limits{MaxConns: 64,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second}}
}

// Server serves the API on a listener with Limits.
type Server = httplimit.Server

// NewServer returns the server for b; zero fields of lim take
// DefaultLimits.
func NewServer(b Backend, lim Limits) *Server {
	def := DefaultLimits()
	lim.Limits = lim.Limits.Or(def.Limits)
	lim.MaxStreams = cmp.Or(lim.MaxStreams, def.MaxStreams)
	return httplimit.NewServer(handler(b, lim), lim.Limits)
}

// Handler serves the API for b with DefaultLimits.
func Handler(b Backend) http.Handler { return handler(b, DefaultLimits()) }

func handler(b Backend, lim Limits) http.Handler {
	// ready starts WriteTimeout once the answer is ready: the server's
	// started when the request was read.
	ready := func(w http.ResponseWriter) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(lim.WriteTimeout))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/routers", func(w http.ResponseWriter, r *http.Request) {
		rs := b.Routers()
		ready(w)
		writeJSONList(w, http.StatusOK, rs)
	})
	mux.HandleFunc("GET /v1/routers/{name}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := b.Router(r.PathValue("name"))
		ready(w)
		if !ok {
			writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no router named " + strconv.Quote(r.PathValue("name"))})
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /v1/daemon", func(w http.ResponseWriter, r *http.Request) {
		st := b.Daemon()
		ready(w)
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /v1/interfaces", func(w http.ResponseWriter, r *http.Request) {
		is := b.Interfaces()
		ready(w)
		writeJSONList(w, http.StatusOK, is)
	})
	mux.HandleFunc("GET /v1/bfd", func(w http.ResponseWriter, r *http.Request) {
		st := b.BFD()
		ready(w)
		writeJSON(w, http.StatusOK, st)
	})
	streams := make(chan struct{}, lim.MaxStreams)
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		select {
		case streams <- struct{}{}:
			defer func() { <-streams }()
		default:
			// Close the connection too: a client refused here is likely
			// to open more, and an idle kept-alive one holds a slot.
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusServiceUnavailable, ErrorBody{Error: fmt.Sprintf("too many event streams: %d are open, the limit; stop a `govrrp watch` or another watcher and retry", lim.MaxStreams)})
			return
		}
		streamEvents(w, r, b, lim.WriteTimeout)
	})
	for _, op := range []string{"disable", "enable"} {
		mux.HandleFunc("POST /v1/routers/{name}/"+op, func(w http.ResponseWriter, r *http.Request) {
			name := r.PathValue("name")
			res, ok := b.SetDisabled(name, op == "disable")
			ready(w)
			if !ok {
				writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no router named " + strconv.Quote(name)})
				return
			}
			writeJSON(w, http.StatusOK, res)
		})
	}
	mux.HandleFunc("GET /v1/log-level", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, LogLevel{Level: b.LogLevel()})
	})
	setLevel := func(w http.ResponseWriter, r *http.Request) {
		var in LogLevel
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: `the body must be a JSON object such as {"level":"debug"}: ` + err.Error()})
			return
		}
		if err := b.SetLogLevel(in.Level); err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, LogLevel{Level: b.LogLevel()})
	}
	mux.HandleFunc("PUT /v1/log-level", setLevel)
	mux.HandleFunc("POST /v1/log-level", setLevel)
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		res := b.Reload()
		ready(w)
		code := http.StatusOK
		if !res.OK {
			code = http.StatusUnprocessableEntity
		}
		writeJSON(w, code, res)
	})
	return mux
}

// streamEvents writes the requested history, then each new event, one JSON
// object per line, until the client goes or the backend closes the channel.
// Each write has its own deadline: a client that stops reading fills the
// socket buffer, its write times out and the stream ends, and the backend
// cuts off its channel when that falls behind, so it never holds the daemon
// nor grows its memory.
func streamEvents(w http.ResponseWriter, r *http.Request, b Backend, writeTimeout time.Duration) {
	rc := http.NewResponseController(w)
	history, _ := strconv.Atoi(r.URL.Query().Get("history"))
	past, ch := b.Subscribe(r.Context(), history)
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	write := func(evs ...Event) bool {
		// Replaces the server's deadline for the whole answer, which a
		// stream would pass.
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		for i := range evs {
			if enc.Encode(&evs[i]) != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	if !write(past...) {
		return
	}
	for ev := range ch {
		if !write(ev) {
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// Compact: at thousands of routers an indented status is twice the
	// garbage per request; govrrp indents what it prints.
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONList writes a JSON array one element at a time, so that the
// status of thousands of routers is never one buffer in memory.
func writeJSONList[T any](w http.ResponseWriter, code int, vs []T) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	_ = bw.WriteByte('[')
	for i := range vs {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		_ = enc.Encode(&vs[i])
	}
	_, _ = bw.WriteString("]\n")
	_ = bw.Flush()
}

// LogLevels are the levels the daemon takes, least severe first.
var LogLevels = []string{"debug", "info", "warn", "error"}

// ParseLogLevel returns the slog level of one of LogLevels; an error names
// them all.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	for _, name := range LogLevels {
		if s == name {
			err := l.UnmarshalText([]byte(s))
			return l, err
		}
	}
	return 0, fmt.Errorf("log level %q is not one of %s", s, strings.Join(LogLevels, ", "))
}

// LevelName is the name in LogLevels of a slog level: the nearest one at or
// below it.
func LevelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}

// errNotFound is returned by Client.Router for an unknown name.
var errNotFound = errors.New("not found")
