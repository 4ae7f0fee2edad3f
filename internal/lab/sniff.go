package lab

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Sniffer captures every Ethernet frame seen by one interface of a node, like
// tcpdump but in-process: an AF_PACKET socket opened inside the namespace.
type Sniffer struct {
	frames chan []byte
	conn   *packet.Conn
}

// Sniff starts capturing on ifname in nd (promiscuous, all protocols) until
// the test ends.
func Sniff(t testing.TB, nd *Node, ifname string) *Sniffer {
	t.Helper()
	var c *packet.Conn
	nd.MustDo(t, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
		if err != nil {
			return err
		}
		return c.SetPromiscuous(true)
	})
	s := &Sniffer{frames: make(chan []byte, 4096), conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case s.frames <- append([]byte(nil), buf[:n]...):
			default: // full: a test that reads nothing loses frames
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return s
}

// ErrNoFrame is returned by Next when no matching frame arrived in time.
var ErrNoFrame = errors.New("lab: no matching frame")

// Next returns the next captured frame for which match is true, skipping
// others, waiting at most timeout.
func (s *Sniffer) Next(timeout time.Duration, match func(frame []byte) bool) ([]byte, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case f := <-s.frames:
			if match == nil || match(f) {
				return f, nil
			}
		case <-deadline.C:
			return nil, fmt.Errorf("%w within %v", ErrNoFrame, timeout)
		}
	}
}

// Drain discards frames captured so far.
func (s *Sniffer) Drain() {
	for {
		select {
		case <-s.frames:
		default:
			return
		}
	}
}

// EtherType returns the EtherType of an untagged Ethernet frame, or 0.
func EtherType(f []byte) uint16 {
	if len(f) < 14 {
		return 0
	}
	return uint16(f[12])<<8 | uint16(f[13])
}
