// Package fsm is the VRRP state machine of one virtual router: VRRPv3
// (RFC 5798 as amended by RFC 9568) and VRRPv2 (RFC 3768), with no I/O and
// no goroutines. Events go in through Router.Handle, actions come out; the
// caller (the daemon, or package sim) sends the adverts, installs the
// addresses and arms real or virtual timers.
//
// Where each rule of the project's spec/VRRP.md lives:
//
//	timers.go  §5    Skew_Time, Master_Down_Interval, Master_Adver_Interval
//	                 [5798-6.1-d] [5798-6.1-e] [3768-6.1-a] [3768-6.1-b] [IMPL-5];
//	                 Adver_Timer and Master_Down_Timer [5798-6.2-a], the
//	                 preempt-delay timer, stale-firing rejection, and the
//	                 expiry hooks [5798-6.4.3-h] [5798-6.4.2-g]; what a
//	                 reload does to running timers (reconfigureTimers)
//	fsm.go     §6.1  Initialize: startup, owner [5798-6.4.1-a] [5798-6.4.1-b]
//	           §6.2  Backup [5798-6.4.2-f..j] [9568-6.4.2-a] [3768-6.4.2-a]
//	           §6.3  Master [5798-6.4.3-g..k] [9568-6.4.3-a] [9568-6.4.3-b]
//	                 [3768-6.4.3-a] [IMPL-6] [IMPL-7]
//	           §6.4  owner: always Master at startup, always preempts [5798-6.1-f]
//	           ext.  Fault state, preempt delay, tracked priority (below)
//	reconfig.go      ext.  reload in place (Reconfigure) and primary
//	                 address changes (SetPrimary) [5798-6.4.3-j] [9568-6.4.3-a]
//	action.go        the closed set of actions and transition reasons, and
//	                 their RFC 6527 NewMasterReason
//	clock.go         the injected Clock; RealClock for production
//	config.go  §5.1  per-VR parameters and their ranges [5798-6.1-a..c] [E8301]
//	status.go  §1.3  snapshot and RFC 6527 counters; the effective
//	                 Accept_Mode the daemon enforces [5798-6.1-g]
//	                 [5798-6.4.3-f] [3768-6.4.3-b]
//
// # Extensions (not in any RFC)
//
// Fault is a fourth state, as keepalived has it, for "this router cannot
// run": the link is down or a tracked object with a fault rule failed. A
// router in Fault sends no adverts, holds no addresses and runs no timers.
// Entering Fault from Master on a tracked fault sends a priority-0 advert
// first, like a shutdown, so Backups take over in Skew_Time; on link down it
// cannot send, and Backups take over in Master_Down_Interval. When every fault
// clears the router passes through Initialize and applies the startup rules
// again.
//
// Preempt delay (keepalived's preempt_delay, as keepalived 2.2.7 applies
// it): a Backup accepts a lower-priority Master's adverts as if Preempt_Mode
// were off for PreemptDelay from the first one it hears, at startup or
// later; an advert of higher or equal priority, becoming Master or a Fault
// ends the delay, and the next lower-priority Master gets it in full. The
// master dying meanwhile is still detected by Master_Down_Timer.
//
// Tracked priority changes take effect at once on the stored priority and
// reach the wire with the next advert; Handle is never re-entered, so no
// change lands in the middle of a transition. The owner's 255 never changes.
// The caller computes the effective priority from the configured one;
// SetPriority carries the result.
//
// Disable and enable (EventDisable, EventEnable: `govrrp disable`, FRR's
// `shutdown`) are the Shutdown and Startup events with reasons of their own
// (admin-disabled, admin-enabled): a disabled Master resigns with priority 0
// [5798-6.4.3-g] so a Backup takes over in Skew_Time [5798-6.4.2-h]; the
// router then rests in Initialize, sending and answering nothing, until
// enabled; a Startup meanwhile waits for the enable, and faults are recorded
// for it. Status().Disabled says so, and OwnFault is true for a started
// disabled router, so a sync group leaves Master on this box as a whole.
//
// Reload (Router.Reconfigure) applies a new Config with no transition and
// no advert gap when only Priority (non-owner to non-owner), AdvertInterval,
// Addresses, Primary, Preempt, PreemptDelay, Accept or NoReplyLower change;
// anything else is ErrRestartNeeded. A changed configured Priority resets
// the effective one to it: a caller that tracks sends SetPriority again
// after Reconfigure. Address changes in Master come out as one action per
// address (Action.Addr set); every other action leaves Addr zero, meaning
// all configured addresses.
//
// Primary address changes (SetPrimary, from the link watcher) take effect at
// once on the tie-break [5798-6.4.3-j] [9568-6.4.3-a], on Status().Primary
// and, in Master, on Status().MasterAddr; adverts carry the new source from
// the next one. No transition, no action.
//
// # Time
//
// Time comes from a Clock. Timers are deadlines, each armed with a fresh
// token: the caller asks NextDeadline or Deadline, waits, and hands back
// Expired(timer, token). A token from before a reset is ignored, so a late
// firing of a stopped timer cannot act.
//
// Tests: timers_test.go checks the §5.2 worked values to the nanosecond;
// fsm_test.go has one case per requirement ID of §6; scenario_test.go the
// extensions; admin_test.go disable and enable; reconfig_test.go reload and primary changes; bench_test.go
// proves the advert paths allocate nothing.
package fsm
