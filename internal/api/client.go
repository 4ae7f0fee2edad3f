package api

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// Client talks to govrrpd over its control socket.
type Client struct {
	Socket string
	http   *http.Client
}

// NewClient returns a Client for the unix socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Client{Socket: path, http: &http.Client{Transport: tr}}
}

// ErrUnreachable wraps every failure to reach the daemon; its message says
// how to fix it.
var ErrUnreachable = errors.New("cannot reach govrrpd")

func (c *Client) unreachable(err error) error {
	hint := "is govrrpd running? (systemctl status govrrpd) Otherwise pass -s PATH matching control_socket in its configuration"
	switch {
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EACCES):
		hint = "permission denied: run as root, or add your user to the group named by control_group"
	case errors.Is(err, syscall.ECONNREFUSED):
		hint = "the socket exists but nothing listens: govrrpd died without removing it; start govrrpd"
	}
	if _, statErr := os.Stat(c.Socket); errors.Is(statErr, fs.ErrNotExist) {
		hint = "no socket there: is govrrpd running? (systemctl status govrrpd) Otherwise pass -s PATH matching control_socket in its configuration"
	}
	return fmt.Errorf("%w at %s: %s", ErrUnreachable, c.Socket, hint)
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	return c.send(ctx, method, path, nil, out)
}

// send is do with a JSON body (nil: none). A 400 answer is an error with the
// daemon's words.
func (c *Client) send(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://govrrpd"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		var eb ErrorBody
		_ = json.Unmarshal(data, &eb)
		return fmt.Errorf("%w: %s", errNotFound, eb.Error)
	case http.StatusBadRequest, http.StatusMethodNotAllowed:
		var eb ErrorBody
		_ = json.Unmarshal(data, &eb)
		return fmt.Errorf("govrrpd refused it (%s): %s", resp.Status, cmp.Or(eb.Error, strings.TrimSpace(string(data))))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("govrrpd answered %s with %d bytes that are not JSON: %w", resp.Status, len(data), err)
	}
	return nil
}

// Routers returns the status of every virtual router.
func (c *Client) Routers(ctx context.Context) ([]RouterStatus, error) {
	var out []RouterStatus
	return out, c.do(ctx, http.MethodGet, "/v1/routers", &out)
}

// Router returns one router's detail.
func (c *Client) Router(ctx context.Context, name string) (RouterDetail, error) {
	var out RouterDetail
	err := c.do(ctx, http.MethodGet, "/v1/routers/"+name, &out)
	return out, err
}

// Daemon returns the daemon-wide counters.
func (c *Client) Daemon(ctx context.Context) (DaemonStatus, error) {
	var st DaemonStatus
	err := c.do(ctx, http.MethodGet, "/v1/daemon", &st)
	return st, err
}

// Interfaces returns the counters of every interface and family.
func (c *Client) Interfaces(ctx context.Context) ([]InterfaceStatus, error) {
	var out []InterfaceStatus
	return out, c.do(ctx, http.MethodGet, "/v1/interfaces", &out)
}

// BFD returns the daemon's BFD sessions.
func (c *Client) BFD(ctx context.Context) (BFDStatus, error) {
	var out BFDStatus
	return out, c.do(ctx, http.MethodGet, "/v1/bfd", &out)
}

// Reload asks the daemon to reload its configuration.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	var out ReloadResult
	return out, c.do(ctx, http.MethodPost, "/v1/reload", &out)
}

// Disable takes the named router out of service; Enable puts it back.
// An unknown name is an error IsNotFound recognises.
func (c *Client) Disable(ctx context.Context, name string) (AdminResult, error) {
	var out AdminResult
	return out, c.do(ctx, http.MethodPost, "/v1/routers/"+url.PathEscape(name)+"/disable", &out)
}

// Enable puts a disabled router back in service.
func (c *Client) Enable(ctx context.Context, name string) (AdminResult, error) {
	var out AdminResult
	return out, c.do(ctx, http.MethodPost, "/v1/routers/"+url.PathEscape(name)+"/enable", &out)
}

// LogLevel returns the daemon's log level.
func (c *Client) LogLevel(ctx context.Context) (string, error) {
	var out LogLevel
	err := c.do(ctx, http.MethodGet, "/v1/log-level", &out)
	return out.Level, err
}

// SetLogLevel sets the daemon's log level and returns the one now in use.
func (c *Client) SetLogLevel(ctx context.Context, level string) (string, error) {
	var out LogLevel
	err := c.send(ctx, http.MethodPut, "/v1/log-level", LogLevel{Level: level}, &out)
	return out.Level, err
}

// Events streams events to fn until ctx ends or the daemon closes the stream.
func (c *Client) Events(ctx context.Context, history int, fn func(Event)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://govrrpd/v1/events?history=%d", history), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb ErrorBody
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&eb)
		return fmt.Errorf("govrrpd refused the event stream (%s): %s", resp.Status, eb.Error)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("bad event from govrrpd: %w", err)
		}
		fn(ev)
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

// IsNotFound reports whether err says the router does not exist.
func IsNotFound(err error) bool { return errors.Is(err, errNotFound) }

// Listen opens the control socket at path with mode 0600 (0660 and the
// group gid when gid >= 0), replacing a stale socket left by a dead daemon
// but refusing to steal one a live daemon answers on.
func Listen(path string, gid int) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s is in use: another govrrpd is running", path)
	}
	_ = os.Remove(path)
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	mode := os.FileMode(0o600)
	if gid >= 0 {
		mode = 0o660
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, err
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
