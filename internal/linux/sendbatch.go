package linux

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// txSlots is the size of the send batch: Queue flushes by itself when it
// is full.
const txSlots = 64

// txBatch is the send path: adverts encoded into fixed slots, written by
// one sendmmsg. Each slot has its own sender, which builds the slot's
// pktinfo control message and destination as x/net's sendmsg did, so the
// wire is the same.
type txBatch struct {
	n    int
	s    [txSlots]*sender
	buf  [txSlots][]byte
	sa4  [txSlots]unix.RawSockaddrInet4
	sa6  [txSlots]unix.RawSockaddrInet6
	iov  [txSlots]unix.Iovec
	hdrs [txSlots]unix.Mmsghdr
}

func newTxBatch(fam vrrp.Family, ifindex int) *txBatch {
	b := &txBatch{}
	for i := range txSlots {
		s := newSender(fam, ifindex)
		b.s[i] = s
		// Sized for a typical advert; a larger one grows its slot once
		// (64 slots of 1500 bytes would be 96 KiB per interface).
		b.buf[i] = make([]byte, 0, 128)
		h := &b.hdrs[i].Hdr
		if fam == vrrp.IPv6 {
			b.sa6[i].Family = unix.AF_INET6
			h.Name = (*byte)(unsafe.Pointer(&b.sa6[i]))
			h.Namelen = unix.SizeofSockaddrInet6
		} else {
			b.sa4[i].Family = unix.AF_INET
			h.Name = (*byte)(unsafe.Pointer(&b.sa4[i]))
			h.Namelen = unix.SizeofSockaddrInet4
		}
		h.Iov = &b.iov[i]
		h.Iovlen = 1
		h.Control = &s.oob[0]
		h.SetControllen(len(s.oob))
	}
	return b
}

// Queue encodes m once per destination (the group, or each unicast peer,
// with that destination's pseudo-header) from the current Source into the
// send batch; Flush writes it. A full batch (64 datagrams) is flushed
// first: that flush's failures are counted in Stats, not returned. A
// unicast peer of the wrong family is counted as a send error and
// skipped. It does not allocate (an advert larger than 128 bytes grows
// its slot once). Only the owning event loop may call it.
func (c *Conn) Queue(m *vrrp.Message, form vrrp.ChecksumForm) error {
	src := c.Source()
	if !src.IsValid() {
		return ErrNoSource
	}
	b := c.tx
	for _, dst := range c.dsts {
		if b.n == txSlots {
			_ = c.Flush()
		}
		i := b.n
		out, err := m.Encode(b.buf[i][:0], src, dst, form)
		if err != nil {
			return err
		}
		b.buf[i] = out
		s := b.s[i]
		s.setSource(src)
		s.setDest(dst)
		if s.bad {
			c.sendErrors.Add(1)
			continue
		}
		if c.fam == vrrp.IPv6 {
			b.sa6[i].Addr, b.sa6[i].Scope_id = s.to6.Addr, s.to6.ZoneId
		} else {
			b.sa4[i].Addr = s.to4.Addr
		}
		b.iov[i].Base = unsafe.SliceData(out)
		b.iov[i].SetLen(len(out))
		b.n++
	}
	return nil
}

// Queued returns the number of datagrams waiting for Flush.
func (c *Conn) Queued() int { return c.tx.n }

// Flush writes every queued datagram with one sendmmsg (more only after a
// refused datagram, which is counted as a send error and skipped). It
// never blocks: when the socket buffer is full (ENOBUFS, EAGAIN) the rest
// is dropped, counted as QueueDrops, and ErrQueueFull returned. Otherwise it
// returns the first error the kernel gave, if any; after Close, queued
// datagrams are counted as send errors and net.ErrClosed returned. Either
// way the batch is empty afterwards. It does not allocate. Only the owning
// event loop may call it.
func (c *Conn) Flush() error {
	b := c.tx
	n := b.n
	b.n = 0
	if n == 0 {
		return nil
	}
	if c.closed.Load() {
		c.sendErrors.Add(uint64(n))
		return net.ErrClosed
	}
	var first error
	for off := 0; off < n; {
		k, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&b.hdrs[off])), uintptr(n-off), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			c.sent.Add(uint64(k))
			off += int(k)
			continue
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.ENOBUFS:
			// The send buffer is full. A raw socket says so with ENOBUFS
			// (its datagrams are allocated without waiting, even when
			// blocking), IPv6 also when the qdisc dropped the datagram;
			// the rest of the batch would fail the same way, one system
			// call each.
			c.queueDrops.Add(uint64(n - off))
			return ErrQueueFull
		}
		// sendmmsg reports an error only for its first datagram.
		c.sendErrors.Add(1)
		off++
		if first == nil {
			first = e
		}
	}
	return first
}
