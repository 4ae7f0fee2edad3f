// Package track turns tracked objects (interfaces, scripts) into the
// priority a virtual router advertises, and runs tracking scripts.
package track

// Object is one tracked object's contribution.
type Object struct {
	Name   string
	Weight int  // 0: Fault while failing; otherwise added while failing
	Failed bool // current state
}

// Effective returns the priority a router advertises given its configured
// priority and its tracked objects: configured plus the weights of the failed
// ones, clamped to 1..254, or fault when a failed object has weight 0. An
// owner (255) is never changed by tracking: it owns the addresses whatever
// else fails, and a lowered owner would break the spec's priority rules.
func Effective(configured uint8, objs []Object) (priority uint8, fault bool) {
	p := int(configured)
	for _, o := range objs {
		if !o.Failed {
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

// Hysteresis debounces check results: a passing object fails after Fall
// failures in a row, a failing one passes after Rise successes in a row.
type Hysteresis struct {
	Rise, Fall int
	failed     bool
	streak     int // consecutive results that disagree with the current state
}

// NewHysteresis starts failed: a check that has never passed must not count
// as healthy, so a router starts with the lower priority until Rise successes
// (one, by default) prove otherwise.
func NewHysteresis(rise, fall int) *Hysteresis {
	return &Hysteresis{Rise: max(rise, 1), Fall: max(fall, 1), failed: true}
}

// Observe records one result and reports the state after it and whether it
// changed.
func (h *Hysteresis) Observe(ok bool) (failed, changed bool) {
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
