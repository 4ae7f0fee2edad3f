package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"govrrp/internal/api"
)

// The operator's controls: disable, enable, log-level.

const disableUsage = `Usage: govrrp [-s PATH] disable [--json] NAME

Takes the virtual router NAME out of service, as FRR's "shutdown" does: a
Master first sends an advert with priority 0, so that a Backup takes over
within its Skew_Time, and releases its addresses. While disabled the router
sends nothing, answers nothing and holds no address; it shows as
"Initialize (admin-disabled)" in govrrp status. A member of a sync group
takes its group out of Master with it (the other members go to Fault), so
the group moves to the peer whole.

It stays disabled across reloads (SIGHUP, govrrp reload), even if its
configuration changed, but not across a restart of govrrpd: the
configuration file is what starts. govrrp enable NAME puts it back.
Disabling a disabled router changes nothing.

  --json      print the result as a JSON object (router, disabled, changed,
              state)
  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 done, 1 no router has that name or govrrpd cannot be reached
(the message says why), 2 usage error.
`

const enableUsage = `Usage: govrrp [-s PATH] enable [--json] NAME

Puts the virtual router NAME, disabled with govrrp disable, back in
service: the startup of the protocol, so it becomes Backup (an owner,
priority 255, Master) and then Master if it preempts or no Master is heard.
Enabling a router that is not disabled changes nothing.

  --json      print the result as a JSON object (router, disabled, changed,
              state)
  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 done, 1 no router has that name or govrrpd cannot be reached
(the message says why), 2 usage error.
`

const logLevelUsage = `Usage: govrrp [-s PATH] log-level [debug|info|warn|error]

Prints govrrpd's log level, or sets it: from now on govrrpd logs lines of
that level and above (debug shows every advert dropped and each step of a
start). A reload keeps the level set here unless log.level changed in the
file, which then applies; a restart of govrrpd takes log.level again.

  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 done, 1 govrrpd cannot be reached (the message says why),
2 usage error (not a level).
`

func runDisable(g *globals, args []string, stdout, stderr io.Writer) int {
	return runAdmin(g, "disable", disableUsage, args, stdout, stderr)
}

func runEnable(g *globals, args []string, stdout, stderr io.Writer) int {
	return runAdmin(g, "enable", enableUsage, args, stdout, stderr)
}

func runAdmin(g *globals, op, usage string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(op, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parseDaemonFlags(fs, g, args, usage, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		fmt.Fprintf(stderr, "govrrp %s: need exactly one router name (govrrp status lists them)\n", op)
		return exitUsage
	}
	ctx, cancel := requestContext()
	defer cancel()
	c := api.NewClient(g.socket)
	f := c.Enable
	if op == "disable" {
		f = c.Disable
	}
	res, err := f(ctx, pos[0])
	if api.IsNotFound(err) {
		fmt.Fprintf(stderr, "govrrp %s: govrrpd runs no router named %q (govrrp status lists them)\n", op, pos[0])
		return exitFail
	}
	if err != nil {
		return fail(stderr, op, err)
	}
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			return fail(stderr, op, err)
		}
		return exitOK
	}
	what := "enabled"
	if res.Disabled {
		what = "disabled"
	}
	switch {
	case !res.Changed:
		fmt.Fprintf(stdout, "%s: %s already, %s\n", res.Router, what, res.State)
	case res.Disabled:
		fmt.Fprintf(stdout, "%s: disabled, now %s; govrrp enable %s puts it back (so does a restart of govrrpd)\n", res.Router, res.State, res.Router)
	default:
		fmt.Fprintf(stdout, "%s: enabled, now %s\n", res.Router, res.State)
	}
	return exitOK
}

func runLogLevel(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("log-level", flag.ContinueOnError)
	pos, code, ok := parseDaemonFlags(fs, g, args, logLevelUsage, stderr)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "govrrp log-level: unexpected argument %q (one level: %s)\n", pos[1], strings.Join(api.LogLevels, ", "))
		return exitUsage
	}
	if len(pos) == 1 {
		if _, err := api.ParseLogLevel(pos[0]); err != nil {
			fmt.Fprintf(stderr, "govrrp log-level: %v\n", err)
			return exitUsage
		}
	}
	ctx, cancel := requestContext()
	defer cancel()
	c := api.NewClient(g.socket)
	var level string
	var err error
	if len(pos) == 1 {
		level, err = c.SetLogLevel(ctx, pos[0])
	} else {
		level, err = c.LogLevel(ctx)
	}
	if err != nil {
		return fail(stderr, "log-level", err)
	}
	fmt.Fprintf(stdout, "log level: %s\n", level)
	return exitOK
}
