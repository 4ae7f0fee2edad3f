package linux

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Poller is the wait primitive of a single-threaded event loop: an epoll
// set of readable fds, a timerfd for the next deadline and an eventfd for
// wake-ups from other goroutines.
//
// The timeout is armed on a CLOCK_MONOTONIC timerfd, never given to
// epoll_wait: epoll's timeout has millisecond resolution and is subject to
// timer slack (so are Go's timers), a timerfd's hrtimer fires within
// microseconds of the deadline, which is what sub-millisecond advert
// intervals need.
//
// The epoll fd itself sits in the Go runtime's netpoller: Wait parks the
// goroutine there, and any fd of the set becoming ready (the timerfd
// included) wakes it. Blocking a locked thread in epoll_wait instead was
// measured (50 routers × 10 ms): the runtime hands the thread's P away and
// back around every blocking call, 0.8 context switches per received
// advert and 60% more CPU on a Backup; parking costs one wake-up, at about
// 30 µs more latency.
//
// Add, Remove and Wait belong to the one goroutine that owns the loop; Wake
// may be called from anywhere.
type Poller struct {
	epfd, tfd, efd int

	// timerSet: the timerfd is armed for armedAt, or holds an expiry not
	// yet read. A later deadline leaves it armed (the Wait returns early,
	// harmlessly): a steady Backup's deadlines only ever move later, and
	// re-arming on every wake-up would cost a system call each.
	// f and rc hold the epoll fd in the runtime's netpoller: Wait parks
	// the goroutine there instead of blocking a thread (see poll).
	f  *os.File
	rc syscall.RawConn
	// watched are the fds of Add: one-shot, so that once one has
	// reported readable, datagrams arriving on it wake nobody (neither
	// this goroutine nor the runtime's netpoller thread) until Wait
	// re-arms it; WaitQuiet leaves it disarmed.
	watched []watchedFD
	block   bool
	n       int
	err     error
	pollFn  func(fd uintptr) bool // p.poll, bound once: no allocation per Wait

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
	if err = unix.SetNonblock(p.epfd, true); err != nil {
		p.Close()
		return nil, err
	}
	p.pollFn = p.poll
	p.f = os.NewFile(uintptr(p.epfd), "epoll")
	if p.rc, err = p.f.SyscallConn(); err != nil {
		p.Close()
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
	for _, fd := range []int{p.tfd, p.efd} {
		if err == nil {
			err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
		}
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
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	p.watched = append(p.watched, watchedFD{fd: fd, armed: true})
	return nil
}

// watchedFD is an fd of Add and whether its one-shot interest is armed.
type watchedFD struct {
	fd    int
	armed bool
}

// Remove unregisters fd; call it before closing fd.
func (p *Poller) Remove(fd int) error {
	p.watched = slices.DeleteFunc(p.watched, func(w watchedFD) bool { return w.fd == fd })
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait parks the calling goroutine until an added fd is readable, Wake was
// called, or timeout passed (timeout < 0: no timeout; 0: poll and return).
// It may also return at an earlier timeout that a previous Wait armed: the
// caller checks its deadlines and waits again.
// Readable says which fds were ready; the caller reads them non-blocking.
// It does not allocate.
func (p *Poller) Wait(timeout time.Duration) error {
	for i := range p.watched {
		w := &p.watched[i]
		if w.armed {
			continue
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(w.fd)}
		if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, w.fd, &ev); err != nil {
			return err
		}
		w.armed = true
	}
	return p.wait(timeout)
}

// WaitQuiet is Wait without re-arming the added fds that have reported
// readable since the last Wait: only the timeout, Wake, or an fd that has
// not fired yet end it. An event loop that reads with the kernel's arrival
// times can so let the rest of a burst of datagrams queue up for a moment
// and read it in one batch, where waking for each would cost a wake-up per
// datagram.
func (p *Poller) WaitQuiet(timeout time.Duration) error { return p.wait(timeout) }

func (p *Poller) wait(timeout time.Duration) error {
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
	p.block, p.n, p.err = msec != 0, 0, nil
	if err := p.rc.Read(p.pollFn); err != nil {
		return err
	}
	n, err := p.n, p.err
	if err != nil {
		return err
	}
	p.ready = p.ready[:0]
	for i := range n {
		p.ready = append(p.ready, p.events[i].Fd)
		for j := range p.watched {
			if p.watched[j].fd == int(p.events[i].Fd) {
				p.watched[j].armed = false // one-shot: it fired
			}
		}
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

// poll collects the ready events without blocking; false (nothing ready,
// and the caller wants to block) parks the goroutine in the runtime's
// netpoller until the epoll set becomes readable. The set is empty when it
// parks, so the next event in it is an edge the netpoller sees.
func (p *Poller) poll(fd uintptr) bool {
	n, err := unix.EpollWait(int(fd), p.events[:], 0)
	if err == unix.EINTR {
		return false
	}
	p.n, p.err = n, err
	return n > 0 || err != nil || !p.block
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
		if p.f != nil {
			errs = append(errs, p.f.Close()) // the epoll fd
			p.epfd = -1
		}

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
