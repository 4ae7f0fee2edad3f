package bench

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
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

// stallProbe is a thread that sleeps 1 ms at a time and notes how late it
// wakes: a wake 30 ms late (a 10 ms × 3 session's detection time) means
// the machine left a runnable thread unrun that long, whatever the cause
// (the scheduler, the hypervisor).
type stallProbe struct {
	quit   chan struct{}
	done   chan struct{}
	stalls int
	max    time.Duration
}

func startStallProbe() *stallProbe {
	p := &stallProbe{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		runtime.LockOSThread() // a thread of its own: the Go scheduler is not measured
		ts := unix.NsecToTimespec(int64(time.Millisecond))
		for {
			select {
			case <-p.quit:
				return
			default:
			}
			t0 := time.Now()
			_ = unix.Nanosleep(&ts, nil)
			late := time.Since(t0) - time.Millisecond
			p.max = max(p.max, late)
			if late >= 30*time.Millisecond {
				p.stalls++
			}
		}
	}()
	return p
}

// stop ends the probe: the count of 30 ms stalls and the longest, in ms.
func (p *stallProbe) stop() (int, float64) {
	close(p.quit)
	<-p.done
	return p.stalls, float64(p.max) / float64(time.Millisecond)
}
