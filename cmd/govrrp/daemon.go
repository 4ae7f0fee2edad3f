package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"time"
)

// Helpers shared by the commands that talk to govrrpd.

// requestTimeout bounds one request to the daemon: its answers come from
// memory, so a daemon that takes longer is stuck.
const requestTimeout = 10 * time.Second

// now is the clock for "how long ago" columns; tests fix it.
var now = time.Now

// socketFlags defines -s and --socket on fs, writing into g.socket (so that
// a command-line flag after the command name overrides one before it).
func socketFlags(fs *flag.FlagSet, g *globals) {
	fs.StringVar(&g.socket, "s", g.socket, "govrrpd's control socket")
	fs.StringVar(&g.socket, "socket", g.socket, "govrrpd's control socket")
}

// parseDaemonFlags parses a daemon command's flags (with -s/--socket) and
// returns its positional arguments; ok false means return code.
func parseDaemonFlags(fs *flag.FlagSet, g *globals, args []string, usage string, stderr io.Writer) (pos []string, code int, ok bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	socketFlags(fs, g)
	pos, err := parseInterspersed(fs, args)
	if err == flag.ErrHelp {
		return nil, exitOK, false
	}
	if err != nil {
		return nil, exitUsage, false
	}
	if g.socket == "" {
		fmt.Fprintf(stderr, "govrrp %s: the socket path is empty\n", fs.Name())
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// fail reports err for command name and returns exitFail. An unreachable
// daemon's error already says why and how to fix it.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "govrrp %s: %v\n", name, err)
	return exitFail
}

func requestContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// writeJSON prints v indented by two spaces, as the daemon does.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ms turns the API's float milliseconds into a Duration.
func ms(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Millisecond))) }

// human prints a time span the way people say it, to the second with at
// most two units: 3s, 5m2s, 2h3m, 4d7h.
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, sec)
	}
	return fmt.Sprintf("%ds", sec)
}

// since is human(now - t), or "-" for an unknown time.
func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return human(now().Sub(t))
}

// eventTime is the UTC, millisecond timestamp of event lines.
const eventTime = "2006-01-02T15:04:05.000Z07:00"

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(eventTime)
}

// priority is "150", or "150→100" when tracking moved the effective one.
func priority(configured, effective uint8) string {
	if configured == effective {
		return fmt.Sprint(configured)
	}
	return fmt.Sprintf("%d→%d", configured, effective)
}
