// Package track turns tracked objects (interfaces, scripts) into the
// priority a virtual router advertises, and runs tracking scripts.
package track

// Object is one tracked object's contribution.
type Object struct {
	Name   string
	Weight int  // 0: Fault while failing; otherwise added while failing
	Failed bool // current state
	// Unknown: a script started with init unknown that has no result yet
	// (keepalived's INIT state): it changes neither the priority nor the
	// Fault, and with weight 0 it holds a router's start (Waiting).
	Unknown bool
}

// Effective returns the priority a router advertises given its configured
// priority and its tracked objects: configured plus the weights of the failed
// ones, clamped to 1..254, or fault when a failed object has weight 0. An
// owner (255) is never changed by tracking: it owns the addresses whatever
// else fails, and a lowered owner would break the spec's priority rules.
func Effective(configured uint8, objs []Object) (priority uint8, fault bool) {
	p := int(configured)
	for _, o := range objs {
		if !o.Failed || o.Unknown {
			continue
		}
		if o.Weight == 0 {
			fault = true
			continue
		}
		p += o.Weight
	}
	if configured == 255 {
		return 255, fault
	}
	return uint8(min(max(p, 1), 254)), fault
}

// Waiting reports whether a router tracking objs must wait in Initialize
// before it starts: an object of weight 0 has no state yet, as keepalived
// holds an instance while a script of weight 0 is in its INIT state.
func Waiting(objs []Object) bool {
	for _, o := range objs {
		if o.Unknown && o.Weight == 0 {
			return true
		}
	}
	return false
}

// Hysteresis debounces check results: a passing object fails after Fall
// failures in a row, a failing one passes after Rise successes in a row.
type Hysteresis struct {
	Rise, Fall int
	failed     bool
	unknown    bool // no result yet, and the first decides
	streak     int  // consecutive results that disagree with the current state
}

// NewHysteresis starts failed: a check that has never passed must not count
// as healthy, so a router starts with the lower priority until Rise successes
// (one, by default) prove otherwise.
func NewHysteresis(rise, fall int) *Hysteresis {
	return &Hysteresis{Rise: max(rise, 1), Fall: max(fall, 1), failed: true}
}

// NewHysteresisUnknown starts with no state: the first result decides at
// once, then rise and fall count as usual. keepalived starts a script so
// unless it has init_fail.
func NewHysteresisUnknown(rise, fall int) *Hysteresis {
	h := NewHysteresis(rise, fall)
	h.unknown = true
	return h
}

// Observe records one result and reports the state after it and whether it
// changed (the first result of an unknown start always is a change).
func (h *Hysteresis) Observe(ok bool) (failed, changed bool) {
	if h.unknown {
		h.unknown, h.failed = false, !ok
		return h.failed, true
	}
	if ok == !h.failed {
		h.streak = 0
		return h.failed, false
	}
	h.streak++
	need := h.Fall
	if h.failed {
		need = h.Rise
	}
	if h.streak >= need {
		h.failed, h.streak = !ok, 0
		return h.failed, true
	}
	return h.failed, false
}

// Failed reports the current state.
func (h *Hysteresis) Failed() bool { return h.failed }
