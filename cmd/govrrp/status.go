package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

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
             its interface to appear, or to get an address)
  PRIO       configured priority, "150→100" when tracking changed the one in use
  MASTER     the current master's address, "(us)" when this box is master
  INTERVAL   the advertisement interval in use
  FOR        how long it has been in this state

  --json      print a JSON array of router objects for scripts (name,
              interface, vrid, family, version, state, fault_reason,
              priority, effective_priority, master, master_priority,
              advert_interval_ms, master_down_interval_ms, since,
              addresses, vmac, accept, unicast, and v2_compat when set)
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
	return exitOK
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
	return tw.Flush()
}

// versionText is the VRRP version, "3+2" (sep "+") or "3+v2" (sep "+v")
// for a router in the VRRPv2/v3 interoperation mode.
func versionText(v uint8, v2Compat bool, sep string) string {
	if v2Compat {
		return fmt.Sprintf("%d%s2", v, sep)
	}
	return fmt.Sprint(v)
}

// stateColumn is the state, with the reason when it is Fault.
func stateColumn(r api.RouterStatus) string {
	if r.FaultReason == "" {
		return r.State
	}
	return r.State + " (" + r.FaultReason + ")"
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
