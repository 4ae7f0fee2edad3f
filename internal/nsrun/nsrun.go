// Package nsrun runs code inside a network namespace, on a locked OS thread.
package nsrun

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Run runs fn on an OS thread switched into the network namespace
// ns and waits for it. Sockets fn opens stay in that namespace for their
// whole life, whichever goroutine uses them later; goroutines fn starts do
// not inherit it. Tests and the demo lab use it to act inside the
// namespaces they create.
func Run(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// A thread whose namespace could not be restored must die with its
		// goroutine instead of returning to the scheduler: so no
		// UnlockOSThread on the failure paths.
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("restore namespace: %w (fn: %v)", err, ferr)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
