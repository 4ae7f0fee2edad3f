package daemon

import (
	"fmt"
	"net/netip"
	"time"

	"govrrp/internal/api"
	"govrrp/vrrp"
)

// versionGuard watches the adverts for a router's VRID that the version
// check drops [5798-7.1-b]: a peer sending only the other VRRP version
// (keepalived defaults to VRRPv2 for IPv4, govrrp to VRRPv3) is never heard,
// and both become Master without a word. A VRRPv3 Master in the
// interoperation mode sends both versions [5798-8.4.2-c]: its copies on the
// other version are expected, so a source is only reported once two of its
// adverts on the other version came with none on ours accepted in between.
// Allocated at the first such advert: most routers never see one.
type versionGuard struct {
	adverts  uint64 // counted as a mismatch
	episodes uint64
	peer     netip.Addr // of the latest episode
	peerVer  uint8
	since    time.Time     // wall clock: when the latest episode began
	last     time.Duration // loop clock: its latest advert
	quiet    time.Duration // the episode ends after this long without one

	pending   netip.Addr // a first sighting waiting for a second
	pendingAt time.Duration
	heard     netip.Addr // the latest source of an accepted advert
	heardAt   time.Duration
	log       throttle
}

// msgVersionMismatch is the report of an episode.
const msgVersionMismatch = "VRRP version mismatch: a peer sends adverts for this VRID on the other version only; neither hears the other, so both can be Master"

// otherVersion reports whether a datagram dropped at the version check for
// r is a well-formed advert of the other version (2 against 3), rather than
// a version no router could run.
func (r *vr) otherVersion(payload []byte) (uint8, bool) {
	v := payload[0] >> 4
	ok := (v == 3 || v == 2 && r.cfg.Family == vrrp.IPv4) && v != r.cfg.Version
	return v, ok
}

// wrongVersion records an advert from src of version v with Adver Int
// interval, dropped by the version check; it reports whether it counts as
// a mismatch (the router then says nothing else about it). On the loop.
func (r *vr) wrongVersion(v uint8, interval time.Duration, src netip.Addr, at time.Duration) bool {
	g := r.vg
	if g == nil {
		g = new(versionGuard)
		r.vg = g
	}
	window := 3 * max(interval, r.cfg.AdvertInterval)
	switch {
	case g.heard == src && at-g.heardAt <= window:
		// Its adverts on our version are heard: the interoperation mode.
		if g.pending == src {
			g.pending = netip.Addr{}
		}
		return false
	case g.peer == src && g.peerVer == v && g.last != 0 && at-g.last <= g.quiet:
		g.adverts++
		g.last, g.quiet = at, window
		return true
	case g.pending == src && at-g.pendingAt <= window:
		// The second: a new episode, and the first advert counts too.
		g.pending = netip.Addr{}
		g.adverts += 2
		g.episodes++
		g.peer, g.peerVer, g.since, g.last, g.quiet = src, v, time.Now(), at, window
		if n, ok := g.log.hit(at, conflictLogPeriod); ok {
			r.l.emit(effect{kind: effLog, r: r, msg: msgVersionMismatch, src: src, version: v, count: n,
				ev: api.Event{Time: g.since, Router: r.name, Type: "version_mismatch", Detail: r.versionFix(v, src)}})
		}
		return true
	default:
		g.pending, g.pendingAt = src, at
		return true
	}
}

// heardFrom records the source of an advert that passed the checks, which
// excuses its copies on the other version. On the loop.
func (r *vr) heardFrom(src netip.Addr, at time.Duration) {
	if g := r.vg; g != nil {
		g.heard, g.heardAt = src, at
	}
}

// versionFix says what to write.
func (r *vr) versionFix(peer uint8, src netip.Addr) string {
	if peer == 2 {
		return fmt.Sprintf("%v sends VRRPv2, this router VRRPv3: write `version: 2` on router %s (or `v2_compat: true` while migrating), or make the peer send VRRPv3", src, r.name)
	}
	return fmt.Sprintf("%v sends VRRPv3, this router VRRPv2: write `version: 3` on router %s, or have the peer send VRRPv2 (keepalived: vrrp_version 2; govrrp: `version: 2`, or `v2_compat: true` while migrating)", src, r.name)
}

// versionStatus is the status of the guard, nil before the first episode.
func (r *vr) versionStatus() *api.VersionMismatch {
	g := r.vg
	if g == nil || g.episodes == 0 {
		return nil
	}
	return &api.VersionMismatch{Active: r.l.clock.Now()-g.last <= g.quiet, Episodes: g.episodes,
		Peer: g.peer.String(), PeerVersion: g.peerVer, Version: r.cfg.Version, Since: g.since}
}

// versionMismatches counts the adverts counted as a mismatch.
func (r *vr) versionMismatches() uint64 {
	if r.vg == nil {
		return 0
	}
	return r.vg.adverts
}

// logVersionMismatch writes the episode's one warning and publishes its
// event.
func (d *Daemon) logVersionMismatch(e effect) {
	r := e.r
	r.logger().Warn(e.msg, "interface", r.cfg.Interface, "vrid", r.cfg.VRID, "peer", e.src, "peer_version", e.version,
		"version", r.cfg.Version, "episodes", e.count, "fix", e.ev.Detail)
	d.events.publish(e.ev)
}
