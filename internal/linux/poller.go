package linux

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Poller is the wait primitive of a single-threaded event loop: an epoll
// set of readable fds, a timerfd for the next deadline and an eventfd for
// wake-ups from other goroutines.
//
// The timeout is armed on a CLOCK_MONOTONIC timerfd, never given to
// epoll_wait: epoll's timeout has millisecond resolution and is subject to
// timer slack, a timerfd's hrtimer fires within microseconds of the
// deadline, which is what sub-millisecond advert intervals need.
//
// Add, Remove and Wait belong to the one goroutine that owns the loop (it
// should run on a locked OS thread); Wake may be called from anywhere.
type Poller struct {
	epfd, tfd, efd int

	// timerSet: the timerfd is armed for armedAt, or holds an expiry not
	// yet read. A later deadline leaves it armed (the Wait returns early,
	// harmlessly): a steady Backup's deadlines only ever move later, and
	// re-arming on every wake-up would cost a system call each.
	timerSet bool
	armedAt  time.Time
	spec     unix.ItimerSpec
	events   [16]unix.EpollEvent
	ready    []int32 // the fds the last Wait found readable
	efdBuf   [8]byte
	one      [8]byte // the eventfd increment, native-endian 1

	woken atomic.Bool // a Wake is pending: later Wakes skip the write

	closeOnce sync.Once
	closeErr  error
}

// NewPoller creates the epoll set with its timerfd and eventfd, all
// close-on-exec and non-blocking.
func NewPoller() (*Poller, error) {
	p := &Poller{epfd: -1, tfd: -1, efd: -1, ready: make([]int32, 0, 16)}
	var err error
	if p.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, err
	}
	if p.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK); err != nil {
		p.Close()
		return nil, err
	}
	if p.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		p.Close()
		return nil, err
	}
	if err = p.Add(p.tfd); err == nil {
		err = p.Add(p.efd)
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	binary.NativeEndian.PutUint64(p.one[:], 1)
	return p, nil
}

// Add registers fd for level-triggered readability: Wait keeps returning
// while it has data, so the caller may stop reading at any batch size.
func (p *Poller) Add(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Remove unregisters fd; call it before closing fd.
func (p *Poller) Remove(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait blocks the calling OS thread until an added fd is readable, Wake was
// called, or timeout passed (timeout < 0: no timeout; 0: poll and return).
// It may also return at an earlier timeout that a previous Wait armed: the
// caller checks its deadlines and waits again.
// It does not say which: the caller reads all its fds non-blocking. An
// interrupted epoll_wait (EINTR) is resumed, not returned: the deadline
// is on the timerfd, so it stays exact. It does not allocate.
//
// epoll_wait is a normal (not raw) system call, so the runtime hands the
// thread's P to other goroutines while it blocks.
func (p *Poller) Wait(timeout time.Duration) error {
	msec := -1
	switch {
	case timeout > 0:
		at := time.Now().Add(timeout)
		if !p.timerSet || at.Before(p.armedAt) {
			// Re-arming also clears an expiry not yet read.
			p.spec.Value = unix.NsecToTimespec(int64(timeout))
			if err := unix.TimerfdSettime(p.tfd, 0, &p.spec, nil); err != nil {
				return err
			}
			p.timerSet, p.armedAt = true, at
		}
	case timeout == 0:
		msec = 0
	case p.timerSet:
		p.spec.Value = unix.Timespec{}
		if err := unix.TimerfdSettime(p.tfd, 0, &p.spec, nil); err != nil {
			return err
		}
		p.timerSet = false
	}
	n, err := unix.EpollWait(p.epfd, p.events[:], msec)
	for err == unix.EINTR {
		// A signal (the runtime's preemption SIGURG, say): the deadline
		// lives on the timerfd, so waiting again keeps it exact, and the
		// caller sees no spurious return.
		n, err = unix.EpollWait(p.epfd, p.events[:], msec)
	}
	if err != nil {
		return err
	}
	p.ready = p.ready[:0]
	for i := range n {
		p.ready = append(p.ready, p.events[i].Fd)
		if int(p.events[i].Fd) == p.tfd {
			// Expired: read it, or it stays readable.
			_, _ = unix.Read(p.tfd, p.efdBuf[:])
			p.timerSet = false
		}
		if int(p.events[i].Fd) == p.efd {
			// Read before clearing the flag: a Wake in between finds the
			// flag still set and skips its write, but this Wait has not
			// returned yet, so its caller still sees the work that Wake
			// announced. Clearing first could lose a Wake whose write
			// this read swallowed.
			_, _ = unix.Read(p.efd, p.efdBuf[:])
			p.woken.Store(false)
		}
	}
	return nil
}

// Readable reports whether the last Wait found fd readable.
func (p *Poller) Readable(fd int) bool {
	for _, r := range p.ready {
		if int(r) == fd {
			return true
		}
	}
	return false
}

// Wake makes the current or next Wait return. Safe from any goroutine; a
// burst of Wakes before Wait consumes them costs one eventfd write.
func (p *Poller) Wake() {
	if p.woken.CompareAndSwap(false, true) {
		// EAGAIN only if the counter is about to overflow: a wake-up is
		// pending anyway.
		_, _ = unix.Write(p.efd, p.one[:])
	}
}

// Close releases the epoll set, the timerfd and the eventfd (not the fds
// that were added). Wait must not be running.
func (p *Poller) Close() error {
	p.closeOnce.Do(func() {
		var errs []error
		for _, fd := range []*int{&p.efd, &p.tfd, &p.epfd} {
			if *fd >= 0 {
				errs = append(errs, unix.Close(*fd))
				*fd = -1
			}
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
