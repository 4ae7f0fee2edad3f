package track

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxFileRead bounds what is read of a tracked file: keepalived reads 127
// bytes, enough for any integer; the rest is never read.
const MaxFileRead = 127

// ReadFile reads a tracked file as keepalived's track_file does: its value
// is the integer at the start of its first MaxFileRead bytes, in C's strtol
// base 0 (decimal, 0x hex, 0 octal); a missing, unreadable or empty file, or
// one not starting with a number, is 0. ok is false for a value outside 32
// bits, which keepalived ignores (the previous value stays).
//
// One non-blocking read(2), as keepalived: a FIFO or device at the path
// cannot hold the watcher (os.File would park on a FIFO until a writer).
func ReadFile(path string) (v int64, ok bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, true
	}
	defer unix.Close(fd)
	var buf [MaxFileRead]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return 0, true
	}
	return ParseFileValue(string(buf[:n]))
}

// ParseFileValue is strtol(s, NULL, 0) with keepalived's range check.
func ParseFileValue(s string) (v int64, ok bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isDigit(s[2], 16):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base = 8
	}
	end := 0
	for end < len(s) && isDigit(s[end], base) {
		end++
	}
	if end == 0 {
		return 0, true
	}
	u, err := strconv.ParseUint(s[:end], base, 64)
	if err != nil || u > 1<<32 {
		return 0, false // strtol's ERANGE, or past keepalived's bound
	}
	v = int64(u)
	if neg {
		v = -v
	}
	if v < -1<<31 || v > 1<<31 {
		return 0, false
	}
	return v, true
}

func isDigit(c byte, base int) bool {
	var d int
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'z':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		d = int(c-'A') + 10
	default:
		return false
	}
	return d < base
}

// FileObject is a tracked file's contribution as an Object: with weight 0
// it is a Fault while v is not 0; otherwise v*weight, clamped to -254..253,
// is added, and -254 (or less) is a Fault, as keepalived's
// process_update_vrrp_track_file_status.
func FileObject(name string, v int64, weight int) Object {
	if weight == 0 {
		return Object{Name: name, Failed: v != 0}
	}
	add := min(max(v*int64(weight), -254), 253)
	if add == -254 {
		return Object{Name: name, Failed: true} // weight 0 and failed: Fault
	}
	return Object{Name: name, Weight: int(add), Failed: add != 0}
}

// WatchFiles reports the value of each of paths (ReadFile) at once and then
// whenever it may have changed, until ctx ends. It watches the directories
// holding them with inotify, as keepalived does, so a file created, written,
// replaced by a rename or removed is noticed; a directory that does not exist
// is not watched (its files read as 0). changed is called from one goroutine.
func WatchFiles(ctx context.Context, paths []string, log *slog.Logger, changed func(path string, v int64)) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	inot := os.NewFile(uintptr(fd), "inotify") // pollable: Read wakes on Close
	watched := map[int32]string{}              // watch descriptor -> directory
	byDir := map[string][]string{}
	for _, p := range paths {
		dir := filepath.Dir(p)
		if byDir[dir] == nil {
			wd, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_MOVED_FROM|unix.IN_CREATE|unix.IN_DELETE)
			if err != nil {
				log.Warn("cannot watch a tracked file's directory; the file counts as 0", "dir", dir, "err", err)
			} else {
				watched[int32(wd)] = dir
			}
		}
		byDir[dir] = append(byDir[dir], p)
	}
	last := map[string]int64{}
	report := func(p string) {
		v, ok := ReadFile(p)
		if !ok {
			log.Warn("tracked file holds a number out of range; ignored", "path", p)
			return
		}
		if old, seen := last[p]; seen && old == v {
			return
		}
		last[p] = v
		changed(p, v)
	}
	for _, p := range paths {
		report(p)
	}
	stop := context.AfterFunc(ctx, func() { inot.Close() })
	defer stop()
	defer inot.Close()
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := inot.Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameEnd := off + unix.SizeofInotifyEvent + int(ev.Len)
			if nameEnd > n {
				break
			}
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:nameEnd]), "\x00")
			off = nameEnd
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				for _, p := range paths { // events lost: read them all
					report(p)
				}
				continue
			}
			dir, ok := watched[ev.Wd]
			if !ok {
				continue
			}
			for _, p := range byDir[dir] {
				if filepath.Base(p) == name {
					report(p)
				}
			}
		}
	}
}
