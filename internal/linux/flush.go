package linux

import (
	"context"
	"time"
)

// Flush waits until every advert queued by Send has been handed to the
// kernel, or ctx ends. A shutdown calls it so its priority-0 advert leaves
// before the socket closes (Close drops what is still queued).
func (c *Conn) Flush(ctx context.Context) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for len(c.free) < cap(c.free) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return nil
		case <-tick.C:
		}
	}
	return nil
}
