package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type procStat struct {
	state        string
	pgrp         int
	utime, stime uint64 // clock ticks
}

func readStat(pid string) (procStat, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: no comm", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: short", pid)
	}
	var st procStat
	st.state = f[0]
	st.pgrp, _ = strconv.Atoi(f[2])
	st.utime, _ = strconv.ParseUint(f[11], 10, 64)
	st.stime, _ = strconv.ParseUint(f[12], 10, 64)
	return st, nil
}

// clkTck is USER_HZ; 100 on every Linux architecture Go supports here.
const clkTck = 100

// cpuSeconds is utime+stime of pid (all its threads) in seconds.
func cpuSeconds(pid int) (float64, error) {
	st, err := readStat(strconv.Itoa(pid))
	if err != nil {
		return 0, err
	}
	return float64(st.utime+st.stime) / clkTck, nil
}

// statusKB reads a "Key:   123 kB" line of /proc/PID/status.
func statusKB(pid int, key string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func poll(d, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
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
	return float64(z.busy-a.busy) / clkTck / wall, float64(z.steal-a.steal) / clkTck / wall
}
