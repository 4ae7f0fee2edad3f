package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"govrrp/internal/keepalived"
)

const importUsage = `Usage: govrrp import keepalived FILE [-o OUT] [--config-id ID]

Translates the VRRP part of a keepalived configuration into a govrrpd
configuration. FILE is read as keepalived 2.2.7 reads it: include (globs,
relative to the including file), $NAME=VALUE parameters with $NAME and
${NAME}, ~SEQ and ~LST lines, @ID and @^ID conditional lines, ! and #
comments, quoted strings, { } blocks over several lines. keepalived's
defaults are written out (VRRPv2 for IPv4, advert_int rounding, accept
unless vrrp_strict, announcements), so the result behaves on the wire as
keepalived does; state MASTER without a priority (keepalived's 255) is
written as 254, since govrrpd gives 255 only to the address owner. Each
router carries a comment naming its vrrp_instance's file:line. The YAML
passes govrrp validate --no-host; run govrrp validate on the target
machine too.

Everything not translated is listed on stderr as
FILE:LINE: KEYWORD: why; what to do instead. Sections that are not VRRP
(LVS virtual_server, real_server, checkers, their global settings,
e-mail settings) are named once and skipped. See /usr/share/doc/govrrp/MIGRATING.md.

  -o OUT            write the YAML to OUT (mode 0600) instead of stdout
  --config-id ID    keepalived's -i: keep "@ID" lines, drop "@^ID" lines
                    (default: the host name up to its first dot, as keepalived)

Exit status: 0 everything translated (stderr may still explain changes
keepalived makes too), 3 the YAML was written but something was left out,
1 nothing usable (no vrrp_instance could be translated, or FILE could not
be read), 2 usage error.
`

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	out := fs.String("o", "", "output file")
	id := fs.String("config-id", defaultConfigID(), "keepalived config-id")
	pos, err := parseInterspersed(fs, args)
	if err == flag.ErrHelp {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(pos) != 2 || pos[0] != "keepalived" {
		fmt.Fprint(stderr, importUsage)
		return exitUsage
	}
	res, err := keepalived.Import(pos[1], keepalived.Options{ConfigID: *id})
	if err != nil {
		fmt.Fprintf(stderr, "govrrp import: %v\n", err)
		return exitFail
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, n)
	}
	if res.Outcome() == keepalived.Nothing {
		fmt.Fprintf(stderr, "govrrp import: %s: no vrrp_instance could be translated; nothing written\n", pos[1])
		return exitFail
	}
	if *out == "" {
		if _, err := stdout.Write(res.YAML); err != nil {
			fmt.Fprintf(stderr, "govrrp import: %v\n", err)
			return exitFail
		}
	} else if err := os.WriteFile(*out, res.YAML, 0o600); err != nil {
		fmt.Fprintf(stderr, "govrrp import: %v\n", err)
		return exitFail
	}
	if res.Outcome() == keepalived.Partial {
		fmt.Fprintf(stderr, "govrrp import: %d routers written; the lines above were left out\n", res.Routers)
		return exitPartial
	}
	return exitOK
}

// defaultConfigID is keepalived's: the node name up to its first dot.
func defaultConfigID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return strings.SplitN(h, ".", 2)[0]
}
