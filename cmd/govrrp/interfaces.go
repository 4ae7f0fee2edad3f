package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"govrrp/internal/api"
)

// What an interface's own counters say, for status and show: the adverts
// no router there could take. A VRID mismatch between peers shows only
// here (each side's router hears nothing and stays Master).

// unknownVRID describes the adverts for VRIDs no router on the interface
// has, "-" when there were none.
func unknownVRID(s api.InterfaceStatus) string {
	if s.UnknownVRID == 0 {
		return "-"
	}
	last := fmt.Sprintf("last VRID %d", s.LastUnknownVRID)
	if s.LastUnknownFrom != "" {
		last += " from " + s.LastUnknownFrom
	}
	if !s.LastUnknownAt.IsZero() {
		last += ", " + since(s.LastUnknownAt) + " ago"
	}
	return fmt.Sprintf("%d (%s)", s.UnknownVRID, last)
}

// otherDrops lists the other drops no router was charged with (most
// first), the socket's overflows and errors, and the log lines and events
// dropped because the workers were far behind; "-" when there were none.
func otherDrops(s api.InterfaceStatus) string {
	m := map[string]uint64{}
	for k, v := range s.Discards {
		if k != "vrid" && v > 0 {
			m[k] = v
		}
	}
	for _, k := range []string{api.IfCounterOverflow, api.IfCounterRejectOverflow, api.IfCounterReadErrors, api.IfCounterEffectsDropped} {
		if v := s.Counters[k]; v > 0 {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// quiet reports that an interface dropped nothing worth a line.
func quiet(s api.InterfaceStatus) bool { return unknownVRID(s) == "-" && otherDrops(s) == "-" }
