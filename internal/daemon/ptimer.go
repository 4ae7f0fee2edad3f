package daemon

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// preciseLead is how long before a precise deadline the router's Go timer
// fires; the rest is waited on a timerfd.
//
// Go timers wake up to about a millisecond late: when every P is idle the
// runtime sleeps in epoll_wait, whose timeout is whole milliseconds, and a
// wait shorter than one is rounded up to one. At 10 ms adverts that is a
// visible share of Master_Down_Interval (36.09 ms) and of Skew_Time
// (6.09 ms). A timerfd is an hrtimer: the netpoller returns the moment it
// fires.
const preciseLead = 2 * time.Millisecond

// preciseTimer waits for short delays with the kernel's hrtimer precision.
// It is used by one goroutine at a time and does not allocate.
type preciseTimer struct {
	f   *os.File // non-blocking timerfd, so Read parks in the netpoller
	fd  int
	spc unix.ItimerSpec
	buf [8]byte
}

func newPreciseTimer() (*preciseTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	return &preciseTimer{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}, nil
}

// sleep waits d (nothing when d <= 0). An error (never expected) returns
// early: the caller then acts a little before its deadline.
func (p *preciseTimer) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	p.spc.Value = unix.NsecToTimespec(int64(d))
	if err := unix.TimerfdSettime(p.fd, 0, &p.spc, nil); err != nil {
		return
	}
	_, _ = p.f.Read(p.buf[:])
}

func (p *preciseTimer) close() { p.f.Close() }
