package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"govrrp/internal/api"
)

const statusUsage = `Usage: govrrp [-s PATH] status [--json]

Prints every virtual router govrrpd runs, one row each:

  NAME       the router's name in the configuration
  INTERFACE  where it runs
  VRID       virtual router ID
  FAMILY     ipv4 or ipv6
  VER        VRRP version (2 or 3; 3+2 in the VRRPv2/v3 interoperation
             mode, v2_compat)
  STATE      Initialize, Backup, Master or Fault (why): link-down,
             track-fault, interface-missing or no-address (it waits for
             its interface to appear, or to get an address), host-address
             (the interface appeared holding a virtual address as its own),
             owner-address-missing (it appeared without the address an
             owner, priority 255, owns), advert-exceeds-mtu (its advert
             does not fit the interface's MTU; it runs once it does),
             source-missing (the interface lacks its multicast_source or
             unicast_source; it runs once it has it);
             "Initialize (admin-disabled)":
             taken out of service with govrrp disable
  PRIO       configured priority, "150→100" when tracking changed the one in use
  MASTER     the current master's address, "(us)" when this box is master
  INTERVAL   the advertisement interval in use
  FOR        how long it has been in this state

When an interface received adverts that no router there takes, a second
table follows, one row per interface and family:

  UNKNOWN VRID  adverts for a VRID no router here is configured with, and
                the latest one's VRID and source: a peer configured with
                another VRID shows here, not on any router
  OTHER DROPS   other adverts dropped before reaching a router, by reason,
                datagrams the kernel dropped from a full socket buffer
                (overflow, reject_overflow), and log lines and events
                dropped because govrrpd was far behind (effects_dropped)

Below the table, a line for each router that has heard another Master
while Master (a split brain) or, not being the owner, two owners (priority
255 from two addresses), or adverts for its VRID from a peer on the other
VRRP version only (a version mismatch: neither hears the other, so both
can be Master): "NOW" while it lasts, then when the latest began.

With BFD sessions configured, a last table lists them: name, peer, state,
detection time, failures (an Up session lost, not AdminDown) and how long
in the state; govrrp bfd shows the rest.

  --json      print a JSON array of router objects for scripts (name,
              interface, vrid, family, version, state, fault_reason,
              disabled when set, priority, effective_priority, master, master_priority,
              advert_interval_ms, master_down_interval_ms, since,
              addresses, vmac, accept, unicast, v2_compat when set, and
              split_brain and two_owners once seen: active, episodes,
              peers, since; version_mismatch once seen: active,
              episodes, peer, peer_version, version, since)
  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 done, 1 govrrpd cannot be reached (the message says why),
2 usage error.
`

func runStatus(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parseDaemonFlags(fs, g, args, statusUsage, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "govrrp status: unexpected argument %q (to see one router: govrrp show NAME)\n", pos[0])
		return exitUsage
	}
	ctx, cancel := requestContext()
	defer cancel()
	routers, err := api.NewClient(g.socket).Routers(ctx)
	if err != nil {
		return fail(stderr, "status", err)
	}
	if *asJSON {
		if routers == nil {
			routers = []api.RouterStatus{} // [] rather than null
		}
		if err := writeJSON(stdout, routers); err != nil {
			return fail(stderr, "status", err)
		}
		return exitOK
	}
	if err := statusTable(stdout, routers); err != nil {
		return fail(stderr, "status", err)
	}
	// Best effort: a daemon without the interfaces endpoint has nothing
	// more to say.
	if ifs, err := api.NewClient(g.socket).Interfaces(ctx); err == nil {
		if err := interfaceTable(stdout, ifs); err != nil {
			return fail(stderr, "status", err)
		}
	}
	if bs, err := api.NewClient(g.socket).BFD(ctx); err == nil {
		if err := bfdSummary(stdout, bs); err != nil {
			return fail(stderr, "status", err)
		}
	}
	return exitOK
}

// bfdSummary lists the BFD sessions, one row each, when there are any
// (govrrp bfd has the rest).
func bfdSummary(w io.Writer, st api.BFDStatus) error {
	if len(st.Sessions) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nBFD SESSION\tPEER\tSTATE\tDETECT\tFAILURES\tFOR")
	for _, s := range st.Sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Name, s.Peer, bfdState(s, false), interval(s.DetectionMS), s.Counters[api.BFDCounterFailures], since(s.Since))
	}
	return tw.Flush()
}

// interfaceTable lists the interfaces that dropped adverts no router took;
// nothing when none did.
func interfaceTable(w io.Writer, ifs []api.InterfaceStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := false
	for _, s := range ifs {
		if quiet(s) {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nINTERFACE\tFAMILY\tUNKNOWN VRID\tOTHER DROPS")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Interface, s.Family, unknownVRID(s), otherDrops(s))
	}
	return tw.Flush()
}

func statusTable(w io.Writer, routers []api.RouterStatus) error {
	if len(routers) == 0 {
		_, err := fmt.Fprintln(w, "govrrpd runs no virtual routers (its configuration lists none)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINTERFACE\tVRID\tFAMILY\tVER\tSTATE\tPRIO\tMASTER\tINTERVAL\tFOR")
	for _, r := range routers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Name, r.Interface, r.VRID, r.Family, versionText(r.Version, r.V2Compat, "+"), stateColumn(r),
			priority(r.Priority, r.EffectivePriority), masterColumn(r), interval(r.AdvertIntervalMS), since(r.Since))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range routers {
		for _, c := range []struct {
			what string
			c    *api.Conflict
		}{{"split brain", r.SplitBrain}, {"two owners", r.TwoOwners}} {
			if c.c != nil {
				if _, err := fmt.Fprintf(w, "%s: %s\n", r.Name, conflictLine(c.what, c.c)); err != nil {
					return err
				}
			}
		}
		if v := r.VersionMismatch; v != nil {
			if _, err := fmt.Fprintf(w, "%s: version mismatch %s\n", r.Name, versionMismatchLine(v)); err != nil {
				return err
			}
		}
	}
	return nil
}

// versionMismatchLine summarises a peer heard on the other VRRP version:
// "NOW: 10.77.1.9 sends VRRPv3, this router VRRPv2 (1 episode, the latest
// began 14:02:03.120)".
func versionMismatchLine(v *api.VersionMismatch) string {
	now := ""
	if v.Active {
		now = "NOW: "
	}
	return fmt.Sprintf("%s%s sends VRRPv%d, this router VRRPv%d (%s)", now, v.Peer, v.PeerVersion, v.Version, episodes(v.Episodes, v.Since))
}

// conflictLine summarises a split brain or two owners: "split brain NOW
// with 10.77.0.2 (2 episodes, the latest began 14:02:03.120)".
func conflictLine(what string, c *api.Conflict) string {
	now := ""
	if c.Active {
		now = " NOW"
	}
	return fmt.Sprintf("%s%s with %s (%s)", what, now, strings.Join(c.Peers, " and "), episodes(c.Episodes, c.Since))
}

// episodes is "2 episodes, the latest began 14:02:03.120".
func episodes(n uint64, since time.Time) string {
	s := "1 episode"
	if n != 1 {
		s = fmt.Sprintf("%d episodes", n)
	}
	return s + ", the latest began " + stamp(since)
}

// versionText is the VRRP version, "3+2" (sep "+") or "3+v2" (sep "+v")
// for a router in the VRRPv2/v3 interoperation mode.
func versionText(v uint8, v2Compat bool, sep string) string {
	if v2Compat {
		return fmt.Sprintf("%d%s2", v, sep)
	}
	return fmt.Sprint(v)
}

// stateColumn is the state, with the reason when it is Fault, and
// admin-disabled when the operator disabled it (govrrp disable).
func stateColumn(r api.RouterStatus) string {
	var why []string
	if r.FaultReason != "" {
		why = append(why, r.FaultReason)
	}
	if r.Disabled {
		why = append(why, "admin-disabled")
	}
	if why == nil {
		return r.State
	}
	return r.State + " (" + strings.Join(why, ", ") + ")"
}

// masterColumn is the master's address, marked "(us)" when it is this box.
func masterColumn(r api.RouterStatus) string {
	switch {
	case r.State == "Master" && r.Master == "":
		return "(us)"
	case r.State == "Master":
		return r.Master + " (us)"
	case r.Master == "":
		return "-"
	}
	return r.Master
}

func interval(v float64) string {
	if v <= 0 {
		return "-"
	}
	return ms(v).String()
}
