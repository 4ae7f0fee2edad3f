package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"govrrp/internal/api"
)

const bfdUsage = `Usage: govrrp [-s PATH] bfd [--json]

Prints the BFD sessions of govrrpd's top-level bfd list, one row each:

  NAME       the session's name (what track: bfd names)
  INTERFACE  where the peer is
  PEER       the peer's address
  STATE      ours, then the peer's as last received: AdminDown, Down,
             Init or Up; while it waits, "Down (REASON)":
             interface-missing, local-address-missing, no-route-to-peer
             (no address in the peer's subnet yet) or start-failed (the
             log says why); each change of the interface tries again
  TX/RX      the negotiated transmit and receive intervals (1s while not
             Up; "-" before a packet)
  DETECT     the detection time: how long without a packet before a failure
  DIAG       why each side is not Up, ours/the peer's (none while Up;
             control_detection_time_expired, neighbor_signaled_down,
             administratively_down, ...); the log keeps each failure's
  UPS        times it came Up
  FAILURES   Up sessions lost to the path or the peer's Down: what a
             tracking router acts on
  ADMIN      AdminDowns, ours or the peer's: no failure (RFC 5882)
  STALLS     times this host did not run govrrpd for at least the peer's
             interval: the session's detection timer was moved by the
             stall, not failed (each stall counts once per session) (see /usr/share/doc/govrrp/MONITORING.md)
  FOR        how long it has been in this state

Then, per interface and family, the packets the BFD listener dropped, by
receive check (ttl: not 255, GTSM), when it dropped any.

  --json      print the sessions and listeners as one JSON object
  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 done, 1 govrrpd cannot be reached (the message says why),
2 usage error.
`

func runBFD(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bfd", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parseDaemonFlags(fs, g, args, bfdUsage, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "govrrp bfd: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	ctx, cancel := requestContext()
	defer cancel()
	st, err := api.NewClient(g.socket).BFD(ctx)
	if err != nil {
		return fail(stderr, "bfd", err)
	}
	if *asJSON {
		err = writeJSON(stdout, st)
	} else {
		err = bfdTable(stdout, st)
	}
	if err != nil {
		return fail(stderr, "bfd", err)
	}
	return exitOK
}

func bfdTable(w io.Writer, st api.BFDStatus) error {
	if len(st.Sessions) == 0 {
		_, err := fmt.Fprintln(w, "govrrpd runs no BFD sessions (its configuration's bfd list is empty)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINTERFACE\tPEER\tSTATE\tTX/RX\tDETECT\tDIAG\tUPS\tFAILURES\tADMIN\tSTALLS\tFOR")
	for _, s := range st.Sessions {
		c := s.Counters
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s\t%s\t%s/%s\t%d\t%d\t%d\t%d\t%s\n",
			s.Name, s.Interface, s.Peer, bfdState(s, true), interval(s.TxIntervalMS), interval(s.RxIntervalMS),
			interval(s.DetectionMS), s.Diag, s.RemoteDiag, c[api.BFDCounterUps], c[api.BFDCounterFailures],
			c[api.BFDCounterAdminDowns], c[api.BFDCounterHostStalls], since(s.Since))
	}
	header := false
	for _, l := range st.Listeners {
		if len(l.Drops) == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nINTERFACE\tFAMILY\tDROPPED")
			header = true
		}
		parts := []string{}
		for _, k := range slices.Sorted(maps.Keys(l.Drops)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, l.Drops[k]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Interface, l.Family, strings.Join(parts, ", "))
	}
	return tw.Flush()
}

// bfdState is a session's state (with the peer's, remote), or what it
// waits for.
func bfdState(s api.BFDSession, remote bool) string {
	switch {
	case s.Waiting != "":
		return s.State + " (" + s.Waiting + ")"
	case remote:
		return s.State + "/" + s.RemoteState
	}
	return s.State
}
