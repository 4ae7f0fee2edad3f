package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Backend is what the daemon exposes to the API.
type Backend interface {
	Routers() []RouterStatus
	Router(name string) (RouterDetail, bool)
	// Interfaces returns the counters of every interface and family a
	// router runs on.
	Interfaces() []InterfaceStatus
	// Subscribe returns up to history past events, then a channel of new
	// ones that closes when ctx ends or the subscriber falls too far behind.
	Subscribe(ctx context.Context, history int) ([]Event, <-chan Event)
	Reload() ReloadResult
}

// Handler serves the API for b.
func Handler(b Backend) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/routers", func(w http.ResponseWriter, r *http.Request) {
		writeJSONList(w, http.StatusOK, b.Routers())
	})
	mux.HandleFunc("GET /v1/routers/{name}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := b.Router(r.PathValue("name"))
		if !ok {
			writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no router named " + strconv.Quote(r.PathValue("name"))})
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /v1/interfaces", func(w http.ResponseWriter, r *http.Request) {
		writeJSONList(w, http.StatusOK, b.Interfaces())
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		history, _ := strconv.Atoi(r.URL.Query().Get("history"))
		past, ch := b.Subscribe(r.Context(), history)
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		flusher, _ := w.(http.Flusher)
		for _, ev := range past {
			if enc.Encode(ev) != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		for ev := range ch {
			if enc.Encode(ev) != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		res := b.Reload()
		code := http.StatusOK
		if !res.OK {
			code = http.StatusUnprocessableEntity
		}
		writeJSON(w, code, res)
	})
	return mux
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

// errNotFound is returned by Client.Router for an unknown name.
var errNotFound = errors.New("not found")
