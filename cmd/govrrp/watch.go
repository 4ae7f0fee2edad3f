package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"govrrp/internal/api"
)

const watchUsage = `Usage: govrrp [-s PATH] watch [--history N] [--json]

Prints govrrpd's events as they happen, one line each, until Ctrl-C:

  2026-11-26T01:02:03.123Z gw Backup → Master (master-no-response)
  2026-11-26T01:02:04.000Z gw priority → 100 (track)
  2026-11-26T01:02:05.000Z reload updated gw

Times are UTC. Event types: transition, priority, track, discards, reload.

  --history N  first print up to N past events
  --json       print each event as one JSON object per line (NDJSON)
  -s PATH      govrrpd's control socket (see govrrp help)

Exit status: 0 interrupted (Ctrl-C, SIGTERM), 1 govrrpd cannot be reached or
closed the stream (it stopped, or this watcher fell too far behind), 2 usage
error.
`

// watchContext ends watch; tests replace it.
var watchContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runWatch(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	history := fs.Int("history", 0, "past events to print first")
	asJSON := fs.Bool("json", false, "print NDJSON")
	pos, code, ok := parseDaemonFlags(fs, g, args, watchUsage, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "govrrp watch: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	if *history < 0 {
		fmt.Fprintln(stderr, "govrrp watch: --history must be 0 or more")
		return exitUsage
	}
	sigCtx, stop := watchContext()
	defer stop()
	// A failed write (a closed pipe) ends the stream too.
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()
	enc := json.NewEncoder(stdout)
	var writeErr error
	err := api.NewClient(g.socket).Events(ctx, *history, func(ev api.Event) {
		if writeErr != nil {
			return
		}
		if *asJSON {
			writeErr = enc.Encode(ev)
		} else {
			_, writeErr = fmt.Fprintln(stdout, eventLine(ev))
		}
		if writeErr != nil {
			cancel()
		}
	})
	switch {
	case writeErr != nil:
		return fail(stderr, "watch", writeErr)
	case err != nil:
		return fail(stderr, "watch", err)
	case sigCtx.Err() != nil:
		return exitOK
	}
	fmt.Fprintln(stderr, "govrrp watch: govrrpd closed the event stream (it stopped, or this watcher fell too far behind)")
	return exitFail
}

// eventLine is one event for people: time, router, what happened.
func eventLine(ev api.Event) string {
	line := stamp(ev.Time)
	if ev.Router != "" {
		line += " " + ev.Router
	}
	return line + " " + eventBody(ev)
}

// eventBody says what happened: "Backup → Master (reason)" for a
// transition, "TYPE [DETAIL] [FROM → TO] [(REASON)]" for the others.
func eventBody(ev api.Event) string {
	var parts []string
	switch ev.Type {
	case "transition":
	case "priority":
		parts = append(parts, fmt.Sprintf("priority → %d", ev.Priority))
	default:
		parts = append(parts, cmp.Or(ev.Type, "event"))
	}
	// "track interface eth9 ok → failed", but "Backup → Master lost link".
	if ev.Detail != "" && ev.Type != "transition" {
		parts = append(parts, ev.Detail)
	}
	if ev.From != "" || ev.To != "" {
		parts = append(parts, cmp.Or(ev.From, "?")+" → "+cmp.Or(ev.To, "?"))
	}
	if ev.Detail != "" && ev.Type == "transition" {
		parts = append(parts, ev.Detail)
	}
	if ev.Reason != "" {
		parts = append(parts, "("+ev.Reason+")")
	}
	// One event, one line: a refused reload's detail lists every error.
	return strings.ReplaceAll(strings.Join(parts, " "), "\n", "; ")
}
