package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"govrrp/internal/api"
)

const reloadUsage = `Usage: govrrp [-s PATH] reload [--json]

Makes govrrpd reread its configuration file (as SIGHUP does) and prints what
it did with each virtual router: unchanged, updated in place, restarted,
added or removed. A configuration with errors is refused and the errors are
printed (file:line:col: what; fix). govrrp validate checks a file before you
install it.

Some keys take effect only at the next start of govrrpd (control_socket,
control_group, metrics_listen, notify_timeout, notify_user, notify_group,
log.format, the members and hooks of sync_groups). A reload that finds one of them changed applies the
rest, lists them on standard error (file:line:col: key: why) and exits 3;
each reload lists them again until govrrpd is restarted. Routers disabled
with govrrp disable stay disabled; a log level set with govrrp log-level
stays unless log.level changed in the file.

  --json      print the result as a JSON object for scripts (skipped: the
              keys left for the next start, each key, pos, why)
  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 reloaded, 1 the configuration was refused or govrrpd cannot be
reached (the message says why), 2 usage error, 3 reloaded but changed keys
wait for a restart (listed).
`

// reloadTimeout is longer than requestTimeout: a reload reads files and
// restarts routers.
const reloadTimeout = time.Minute

func runReload(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parseDaemonFlags(fs, g, args, reloadUsage, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "govrrp reload: unexpected argument %q (govrrpd rereads the file it was started with)\n", pos[0])
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	res, err := api.NewClient(g.socket).Reload(ctx)
	if err != nil {
		return fail(stderr, "reload", err)
	}
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			return fail(stderr, "reload", err)
		}
		switch {
		case !res.OK:
			return exitFail
		case len(res.Skipped) > 0:
			return exitPartial
		}
		return exitOK
	}
	if !res.OK {
		fmt.Fprintln(stderr, "govrrp reload: govrrpd refused the configuration:")
		for _, l := range strings.Split(strings.TrimRight(cmp.Or(res.Error, "(no reason given)"), "\n"), "\n") {
			fmt.Fprintln(stderr, "  "+l)
		}
		return exitFail
	}
	if err := reloadReport(stdout, res); err != nil {
		return fail(stderr, "reload", err)
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintln(stderr, "govrrp reload: changed, but not applied until govrrpd restarts:")
		for _, k := range res.Skipped {
			fmt.Fprintf(stderr, "  %s: %s: %s\n", cmp.Or(k.Pos, "?"), k.Key, k.Why)
		}
		return exitPartial
	}
	return exitOK
}

func reloadReport(w io.Writer, res api.ReloadResult) error {
	lists := []struct {
		what  string
		names []string
	}{
		{"unchanged", res.Unchanged},
		{"updated", res.Updated},
		{"restarted", res.Restarted},
		{"added", res.Added},
		{"removed", res.Removed},
	}
	var counts []string
	for _, l := range lists {
		if len(l.names) > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", len(l.names), l.what))
		}
	}
	if len(counts) == 0 {
		_, err := fmt.Fprintln(w, "reloaded: no virtual routers before or after")
		return err
	}
	fmt.Fprintf(w, "reloaded: %s\n", strings.Join(counts, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lists {
		if len(l.names) > 0 {
			fmt.Fprintf(tw, "  %s\t%s\n", l.what, strings.Join(l.names, ", "))
		}
	}
	return tw.Flush()
}
