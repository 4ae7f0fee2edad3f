package demo

import (
	"fmt"
	"time"
)

// FamView is one virtual router (one address family) of a box, as its
// daemon reports it.
type FamView struct {
	State      string // Initialize | Backup | Master | Fault; "" unknown
	Master     string // who it sees as master: a box name or an address
	MasterPrio uint8
}

// BoxView is one router box: its daemon and two virtual routers.
type BoxView struct {
	Name     string
	Prio     int
	Daemon   string // "" running; otherwise why there is no state ("stopped", "starting")
	Fams     [2]FamView
	CableOut bool // its cable is out
}

// PingView is the host pinging one VIP.
type PingView struct {
	VIP     string
	Via     string        // the box the host's neighbour entry points at
	Silent  time.Duration // since the last reply
	Replied bool          // a reply came recently
	Started bool          // pinging at all
}

var tableWidths = []int{10, 6, 30, 30}

// stateCode is the colour of a state.
func stateCode(state string) string {
	switch state {
	case "Master":
		return bold + ";" + green
	case "Fault":
		return red
	case "Initialize":
		return yellow
	case "Backup":
		return ""
	}
	return dim
}

// RenderTable draws the live table: one row per box with both virtual
// routers' state and whom they see as master, then the host's pings.
func RenderTable(boxes []BoxView, pings []PingView, color bool) []string {
	lines := []string{pad(color, tableWidths,
		cell{"  router", dim}, cell{"prio", dim}, cell{fmt.Sprintf("IPv4  VRID %d", VRID), dim}, cell{fmt.Sprintf("IPv6  VRID %d", VRID), dim})}
	for _, b := range boxes {
		cells := []cell{{"  " + b.Name, bold}, {fmt.Sprintf("%4d", b.Prio), ""}}
		for _, f := range b.Fams {
			switch {
			case b.Daemon != "":
				cells = append(cells, cell{"govrrpd " + b.Daemon, dim})
			case f.State == "":
				cells = append(cells, cell{"?", dim})
			case f.State == "Backup" && f.Master != "":
				cells = append(cells, cell{fmt.Sprintf("Backup, master %s (%d)", f.Master, f.MasterPrio), ""})
			case f.State == "Fault" && b.CableOut:
				cells = append(cells, cell{"Fault (cable out)", red})
			default:
				cells = append(cells, cell{f.State, stateCode(f.State)})
			}
		}
		lines = append(lines, pad(color, tableWidths, cells...))
	}
	if len(pings) > 0 && pings[0].Started {
		cells := []cell{{"  host", bold}, {"ping", ""}}
		for _, p := range pings {
			switch {
			case p.Replied && p.Via != "":
				cells = append(cells, cell{fmt.Sprintf("%s ✓ via %s", p.VIP, p.Via), green})
			case p.Replied:
				cells = append(cells, cell{p.VIP + " ✓", green})
			default:
				cells = append(cells, cell{fmt.Sprintf("%s ✗ %s", p.VIP, FormatDur(p.Silent.Truncate(time.Millisecond))), bold + ";" + red})
			}
		}
		lines = append(lines, pad(color, tableWidths, cells...))
	}
	return lines
}
