package bench

import (
	"govrrp/internal/lab"
	"os"
	"strconv"
	"strings"
)

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// machineTicks is /proc/stat's first line: busy (all but idle and iowait),
// total and steal, in clock ticks over all CPUs.
type machineTicks struct{ busy, total, steal uint64 }

func readMachineTicks() machineTicks {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var m machineTicks
	for i, v := range f[1:] {
		x, _ := strconv.ParseUint(v, 10, 64)
		m.total += x
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			m.steal = x
			m.busy += x
		default:
			m.busy += x
		}
	}
	return m
}

// busyCores is how many cores were busy between a and z (everything on
// the machine, the daemons included) and how many were stolen by the
// hypervisor: the noise behind a window's CPU numbers.
func busyCores(a, z machineTicks, wall float64) (busy, steal float64) {
	if wall <= 0 {
		return 0, 0
	}
	return float64(z.busy-a.busy) / lab.ClkTck / wall, float64(z.steal-a.steal) / lab.ClkTck / wall
}
