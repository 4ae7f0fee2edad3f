package daemon

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/internal/notify"
	"govrrp/vrrp"
)

// effectKind names a piece of slow work a loop hands off.
type effectKind uint8

const (
	effAddAddresses    effectKind = iota + 1 // netlink: install prefixes on dev
	effAccept                                // nftables: drop packets to vips on dev (Accept_Mode false), nil: none
	effRemoveAddresses                       // netlink: withdraw them (and stop announcing)
	effAnnounce                              // start a GARP/NA job
	effTransition                            // log line, event, notify hooks
	effEvent                                 // publish an event (tracking, priority)
	effLog                                   // a throttled warning (drop, receive warning, send error)
	effBarrier                               // close done once everything before it ran
	effVMACGate                              // open (master) or close the VMAC macvlan's gate
	effConflict                              // a split brain or two owners: warning and event
	effAddRoutes                             // netlink: install routes, then rules (after the addresses)
	effRemoveRoutes                          // netlink: withdraw rules, then routes (before the addresses)
	effAddExtras                             // netlink: install addresses on other devices and excluded ones
	effRemoveExtras                          // netlink: withdraw them
	effStopAnnounce                          // stop the announcements of the VIPs on other devices
	effGroup                                 // a sync-group member's report, on the group's worker (syncgroup.go)
)

// effect is slow work caused by a router's actions: a plain value, taken
// from the loop's state when the action happened, so the worker never reads
// what the loop may change next.
type effect struct {
	kind     effectKind
	r        *vr   // nil for the interface's own
	loop     *loop // for interface-level log lines
	dev      string
	prefixes []netip.Prefix
	noSource bool // effAddAddresses: AddNoSource (Accept_Mode false)
	vips     []netip.Addr
	mac      net.HardwareAddr
	announce linux.AnnounceKey
	annCfg   linux.AnnounceConfig
	ev       api.Event
	note     notify.Event
	hooks    *notify.Runner
	msg      string
	check    vrrp.Check
	err      error
	count    uint64
	vrid     uint8
	version  uint8 // a version mismatch's: the peer's VRRP version
	src      netip.Addr
	master   bool // effVMACGate: open the gate
	done     chan struct{}
	routes   []config.Route // effAddRoutes, effRemoveRoutes
	rules    []config.Rule
	extras   []extraAddr         // effAddExtras, effRemoveExtras
	annKeys  []linux.AnnounceKey // effStopAnnounce
	group    *syncGroup          // effGroup: runs on its worker, not the router's
	report   groupReport         // effGroup
}

// maxQueued bounds each worker's queue. Past it log lines and events are
// dropped (and counted); address and announcement work never is.
const maxQueued = 1 << 16

// workers run effects off the loops on a small fixed pool. A router's
// effects always go to the same worker, so they run in the order its state
// machine asked for them (install before announce, remove after install);
// a slow netlink call delays only the routers sharing that worker, never a
// loop.
type workers struct {
	apply func(effect)
	// prepare, when set, sees each batch a worker took before it runs:
	// work common to the batch is done once (the record of the addresses
	// it installs, record.go).
	prepare func([]effect)
	seed    maphash.Seed
	qs      []*workQueue
	wg      sync.WaitGroup
}

type workQueue struct {
	mu     sync.Mutex
	jobs   []effect
	wake   chan struct{}
	closed bool
}

func newWorkers(n int, apply func(effect), prepare func([]effect)) *workers {
	w := &workers{apply: apply, prepare: prepare, seed: maphash.MakeSeed()}
	for range n {
		q := &workQueue{wake: make(chan struct{}, 1)}
		w.qs = append(w.qs, q)
		w.wg.Add(1)
		go w.serve(q)
	}
	return w
}

// slot picks the worker of a router.
func (w *workers) slot(name string) int {
	return int(maphash.String(w.seed, name) % uint64(len(w.qs)))
}

// submit queues effects on their routers' workers. It never blocks: past
// maxQueued it drops log lines and events, and returns how many (the loop
// counts them, for the interface's status).
func (w *workers) submit(effs []effect) (dropped int) {
	for i := range effs {
		e := &effs[i]
		s := 0
		if e.group != nil {
			s = e.group.slot
		} else if e.r != nil {
			s = e.r.slot
		}
		q := w.qs[s]
		q.mu.Lock()
		switch {
		case q.closed && e.kind == effBarrier:
			close(e.done)
		case q.closed:
		case len(q.jobs) >= maxQueued && (e.kind == effLog || e.kind == effEvent || e.kind == effConflict):
			dropped++
		default:
			q.jobs = append(q.jobs, *e)
		}
		q.mu.Unlock()
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return dropped
}

// barrier waits until everything submitted to slot so far has run.
func (w *workers) barrier(slot int) {
	done := make(chan struct{})
	w.submit([]effect{{kind: effBarrier, r: &vr{slot: slot}, done: done}})
	<-done
}

// close runs what is queued, then stops the workers.
func (w *workers) close() {
	for _, q := range w.qs {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	w.wg.Wait()
}

func (w *workers) serve(q *workQueue) {
	defer w.wg.Done()
	var batch []effect
	for {
		q.mu.Lock()
		batch, q.jobs = q.jobs, batch[:0]
		closed := q.closed
		q.mu.Unlock()
		if w.prepare != nil && len(batch) > 0 {
			w.prepare(batch)
		}
		for i := range batch {
			if batch[i].kind == effBarrier {
				close(batch[i].done)
			} else {
				w.apply(batch[i])
			}
			batch[i] = effect{}
		}
		if len(batch) > 0 {
			if cap(batch) > 1024 {
				batch = nil // a start-up burst: don't keep its memory
			}
			continue
		}
		if closed {
			return
		}
		<-q.wake
	}
}
