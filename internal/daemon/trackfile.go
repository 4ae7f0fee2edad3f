package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/track"
)

// trackFiles watches the files routers track (keepalived's track_file) and
// keeps their last values. One watcher for all of them, restarted when the
// set of paths changes.
type trackFiles struct {
	mu     sync.Mutex
	vals   map[string]int64
	paths  []string
	cancel context.CancelFunc
}

// value is path's last value, read now when the watcher has not reported it
// (a router starting before the watcher): a bounded read of a few bytes.
func (f *trackFiles) value(path string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.vals[path]; ok {
		return v
	}
	v, _ := track.ReadFile(path)
	return v
}

// startFiles watches the files cfg's routers track, unless they are those
// watched already. Called with d.mu held.
func (d *Daemon) startFiles(cfg *config.Config) {
	var paths []string
	for _, r := range cfg.Routers {
		for _, t := range r.Track.Files {
			paths = append(paths, t.Path)
		}
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	f := &d.files
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Equal(paths, f.paths) {
		return
	}
	if f.cancel != nil {
		// The old watcher may report once more: a value read from the
		// file, so no older than what the new one reads.
		f.cancel()
		f.cancel = nil
	}
	f.paths = paths
	if len(paths) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() {
		if err := track.WatchFiles(ctx, paths, d.log, d.fileChanged); err != nil {
			d.log.Error("watching tracked files stopped; their values stay as last read", "err", err)
		}
	}()
}

// stopFiles stops the watcher. Called with d.mu held.
func (d *Daemon) stopFiles() {
	d.files.mu.Lock()
	defer d.files.mu.Unlock()
	if d.files.cancel != nil {
		d.files.cancel()
		d.files.cancel, d.files.paths = nil, nil
	}
}

func (d *Daemon) fileChanged(path string, v int64) {
	d.files.mu.Lock()
	if d.files.vals == nil {
		d.files.vals = map[string]int64{}
	}
	d.files.vals[path] = v
	d.files.mu.Unlock()
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.routers {
		// r.cfg belongs to the loop (a reload changes it there).
		r.l.post(func() {
			for _, t := range r.cfg.Track.Files {
				if t.Path == path {
					r.setFile(path, v)
					return
				}
			}
		})
	}
}

// fileObjects are the tracked objects of c's files, at their last values.
func (d *Daemon) fileObjects(c *config.Router) []track.Object {
	var out []track.Object
	for _, t := range c.Track.Files {
		out = append(out, track.FileObject("file:"+t.Path, d.files.value(t.Path), t.Weight))
	}
	return out
}

// setFile applies a tracked file's new value. On the loop.
func (r *vr) setFile(path string, v int64) {
	changed := false
	for _, t := range r.cfg.Track.Files {
		if t.Path != path {
			continue
		}
		o := track.FileObject("file:"+path, v, t.Weight)
		for i := range r.tracked {
			if r.tracked[i].Name == o.Name && r.tracked[i] != o {
				r.tracked[i], changed = o, true
			}
		}
	}
	if changed {
		r.l.emit(effect{kind: effEvent, r: r, msg: "tracked file changed", ev: api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "track", Detail: fmt.Sprintf("file:%s value=%d", path, v)}})
		r.applyTracking()
	}
	r.l.rearm(r)
}
