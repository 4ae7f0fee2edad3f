package demo

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Screen writes the narration: permanent lines, and below them a live area
// (the table) that is redrawn in place on a terminal. Off a terminal the
// live area is not drawn while it changes; Commit prints its last state.
type Screen struct {
	w     io.Writer
	tty   bool
	color bool

	mu      sync.Mutex
	drawn   int      // lines of the live area on the terminal now
	pending []string // the latest live area
}

// NewScreen returns a Screen writing to w; tty enables in-place redraws,
// color ANSI colours.
func NewScreen(w io.Writer, tty, color bool) *Screen {
	return &Screen{w: w, tty: tty, color: color && tty}
}

// erase removes the live area from a terminal.
func (s *Screen) erase() {
	if s.tty && s.drawn > 0 {
		fmt.Fprintf(s.w, "\x1b[%dF\x1b[J", s.drawn)
		s.drawn = 0
	}
}

func (s *Screen) draw() {
	if !s.tty {
		return
	}
	for _, l := range s.pending {
		fmt.Fprintln(s.w, l)
	}
	s.drawn = len(s.pending)
}

// Println writes a permanent line above the live area.
func (s *Screen) Println(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erase()
	fmt.Fprintln(s.w, line)
	s.draw()
}

// Printf is Println with formatting.
func (s *Screen) Printf(format string, args ...any) { s.Println(fmt.Sprintf(format, args...)) }

// Live replaces the live area. On a terminal the lines overwrite the
// previous ones in place (no flicker); unchanged areas are not redrawn.
func (s *Screen) Live(lines []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty && s.drawn == len(s.pending) && slices.Equal(s.pending, lines) {
		return
	}
	s.pending = append(s.pending[:0], lines...)
	if !s.tty {
		return
	}
	var b strings.Builder
	if s.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF", s.drawn)
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K" + l + "\n")
	}
	if len(lines) < s.drawn {
		b.WriteString("\x1b[J")
	}
	io.WriteString(s.w, b.String())
	s.drawn = len(lines)
}

// Commit makes the live area permanent (off a terminal: prints its last
// state when show is true) and starts a new, empty one.
func (s *Screen) Commit(show bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty {
		if !show {
			s.erase()
		}
	} else if show {
		for _, l := range s.pending {
			fmt.Fprintln(s.w, l)
		}
	}
	s.drawn, s.pending = 0, nil
}

// Clear removes the live area without making it permanent.
func (s *Screen) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erase()
	s.pending = nil
}

// Colours (none off a terminal or with NO_COLOR).
const (
	bold   = "1"
	dim    = "2"
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
)

// Style wraps text in an ANSI colour when colours are on.
func (s *Screen) Style(code, text string) string { return style(s.color, code, text) }

func style(on bool, code, text string) string {
	if !on || text == "" || code == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// cell is a table cell: its text and how it is shown.
type cell struct {
	text string
	code string // ANSI style, "" for none
}

// pad renders cells left-aligned in columns of the given widths (the last
// one unpadded), measuring the plain text so colours do not shift columns.
func pad(color bool, widths []int, cells ...cell) string {
	var b strings.Builder
	for i, c := range cells {
		b.WriteString(style(color, c.code, c.text))
		if i < len(cells)-1 && i < len(widths) {
			if n := widths[i] - utf8.RuneCountInString(c.text); n > 0 {
				b.WriteString(strings.Repeat(" ", n))
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}
