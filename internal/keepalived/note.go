package keepalived

import "fmt"

// Note is something of the keepalived configuration that the translation
// left out or changed, with what to do instead.
type Note struct {
	Pos     Pos
	Keyword string
	Why     string
	Fix     string
	// Lost: the govrrpd configuration does less than keepalived would (the
	// import exits 3). A note that is not Lost only explains a change that
	// keeps keepalived's behaviour (keepalived ignores it too, a rounding
	// keepalived makes as well).
	Lost bool
}

// String is "file:line: keyword: why; fix".
func (n Note) String() string {
	s := fmt.Sprintf("%s: %s: %s", n.Pos, n.Keyword, n.Why)
	if n.Fix != "" {
		s += "; " + n.Fix
	}
	return s
}
