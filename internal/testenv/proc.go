package testenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// RequireExited fails the test unless the process whose pid a program under
// test wrote to pidFile has exited, or does within the given time: a child
// that a timeout or cancellation was to kill with its process group. It
// exits (gone, or a zombie its new parent has not reaped yet) once the
// kernel has delivered the signal, which a loaded machine may take a moment
// to do; a pidfd turns readable when it has.
func RequireExited(t testing.TB, pidFile string, within time.Duration) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", pidFile, err)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return // gone and reaped
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(within.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != 1 {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			t.Fatalf("pid %d still runs %v later (%v): %s", pid, within, err, stat)
		}
		return
	}
}

// KillAtEnd kills, when the test ends, the process whose pid a program under
// test wrote to pidFile: a child that a failing test would leave behind.
func KillAtEnd(t testing.TB, pidFile string) {
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
	})
}
