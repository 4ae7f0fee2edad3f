// Package proc runs the operator's programs (notify hooks, tracking
// scripts): no shell, in their own process group so a timeout, or a child
// left holding their output, kills their children too, and with their output kept only up to a small bound so a
// chatty or hostile program costs the daemon neither memory nor log space.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// MaxOutput bounds the combined stdout and stderr kept from one run. Output
// is only ever logged: 4 KiB holds a usage message or the first lines of a
// trace, keeps the log line far below journald's and syslog's line limits,
// and is small enough to allocate per run at thousands of routers. The rest
// is read and counted, never stored, so the program is not blocked on a
// full pipe and is reaped as usual.
const MaxOutput = 4 << 10

// WaitDelay bounds how long a run waits, once the program has exited or been
// killed, for the output pipe to close. What still holds it then is
// something the program started: its process group is killed, and a child
// that escaped the group (setsid) is left but no longer waited for, so it
// cannot keep the reader, and with it the hook queue or the tracking loop,
// waiting forever.
const WaitDelay = time.Second

// killGrace is the part of WaitDelay left, after the group is killed, for
// the killed to close the pipe: SIGKILL takes effect at once.
const killGrace = 100 * time.Millisecond

// Result is the outcome of one run.
type Result struct {
	Output   string // at most MaxOutput bytes, then the mark of Output.String
	Err      error  // nil when the program exited 0 within its timeout
	TimedOut bool
}

// Run runs argv with env (nil: the daemon's), its stdout and stderr captured
// together into an Output, and kills its whole process group when timeout
// passes or ctx ends, or when something it started still holds the output
// WaitDelay after it ended. It returns at most WaitDelay after the program
// ended.
func Run(ctx context.Context, argv, env []string, timeout time.Duration) Result {
	return RunAs(ctx, argv, env, timeout, nil)
}

// RunAs is Run as the user and group of cred (nil: the daemon's own), for a
// script configured with a user or group, as keepalived's script user.
func RunAs(ctx context.Context, argv, env []string, timeout time.Duration, cred *syscall.Credential) Result {
	if !strings.Contains(argv[0], "/") {
		// The configuration looks bare names up when it is loaded, in its
		// own fixed list (config.CommandPath); one still bare was not
		// found there, and the daemon's PATH must not find another.
		return Result{Err: fmt.Errorf("%s: %w (not found when the configuration was loaded)", argv[0], exec.ErrNotFound)}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	// One pipe for both, read here rather than by exec: the run decides
	// when to stop reading, after the program ended but before it is reaped.
	pr, pw, err := os.Pipe()
	if err != nil {
		return Result{Err: err}
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = WaitDelay
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return Result{Err: err}
	}
	var out Output
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(&out, pr) // Output never fails: to EOF or the deadline
		close(eof)
	}()
	// Until it is reaped the ended program is a zombie whose pid still names
	// its process group, so no other group can have that number yet: the
	// kills below hit only what it started.
	pid := cmd.Process.Pid
	for {
		var info unix.Siginfo
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != unix.EINTR {
			break
		}
	}
	held := false
	select {
	case <-eof:
	case <-time.After(WaitDelay - killGrace):
		held = true
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-eof:
		case <-time.After(killGrace):
			_ = pr.SetReadDeadline(time.Now()) // an escaped child holds it
			<-eof
		}
	}
	err = cmd.Wait()
	if held {
		note := fmt.Sprintf("something it started still held its output %v after it ended, and its process group was killed (redirect a background command's output)", WaitDelay)
		if err == nil {
			err = errors.New("exited, but " + note)
		} else {
			err = fmt.Errorf("%w; %s", err, note)
		}
	}
	r := Result{Output: out.String(), Err: err}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		r.TimedOut = true
		r.Err = errors.New("timed out after " + timeout.String() + " and was killed")
	}
	return r
}

// Output is an io.Writer that keeps the first MaxOutput bytes written to it
// and counts the rest. Write never fails, so a copy into it drains its
// source to the end.
type Output struct {
	buf  []byte
	more int64 // bytes written past MaxOutput
}

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	if o.buf == nil && len(p) > 0 {
		o.buf = make([]byte, 0, MaxOutput)
	}
	n := min(len(p), MaxOutput-len(o.buf))
	o.buf = append(o.buf, p[:n]...)
	o.more += int64(len(p) - n)
	return len(p), nil
}

// String returns what was kept and, when more was written, the mark
// "… [truncated, N bytes more]". The cut never splits a UTF-8 sequence.
func (o *Output) String() string {
	if o.more == 0 {
		return string(o.buf)
	}
	kept, more := o.buf, o.more
	// Back off to the start of the last rune if it was cut short.
	for i := len(kept) - 1; i >= 0 && i >= len(kept)-utf8.UTFMax; i-- {
		if utf8.RuneStart(kept[i]) {
			if !utf8.FullRune(kept[i:]) {
				more += int64(len(kept) - i)
				kept = kept[:i]
			}
			break
		}
	}
	return string(kept) + "… [truncated, " + strconv.FormatInt(more, 10) + " bytes more]"
}
