package api

import (
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
	// Subscribe returns up to history past events, then a channel of new
	// ones that closes when ctx ends or the subscriber falls too far behind.
	Subscribe(ctx context.Context, history int) ([]Event, <-chan Event)
	Reload() ReloadResult
}

// Handler serves the API for b.
func Handler(b Backend) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/routers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, b.Routers())
	})
	mux.HandleFunc("GET /v1/routers/{name}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := b.Router(r.PathValue("name"))
		if !ok {
			writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no router named " + strconv.Quote(r.PathValue("name"))})
			return
		}
		writeJSON(w, http.StatusOK, d)
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// errNotFound is returned by Client.Router for an unknown name.
var errNotFound = errors.New("not found")
