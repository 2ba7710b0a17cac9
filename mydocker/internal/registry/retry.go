//chapter:5

package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// maxRetries is how many times a request is sent again when the answer,
// or the failure to connect, says that a later try may work.
const maxRetries = 3

// maxRetryAfter caps the wait a registry asks for with Retry-After: Docker
// Hub's rate limit can ask for hours, and a user would rather see why.
const maxRetryAfter = 10 * time.Second

// do sends req with client, and sends it again, up to maxRetries times,
// after an answer that says "try later" or a dial error that may pass
// (see shouldRetry). It waits r.retryDelay before the first retry, twice
// that before the next, or what the registry asks for with Retry-After.
func (r *Repository) do(client *http.Client, req *http.Request) (*http.Response, error) {
	delay := r.retryDelay
	for retries := 0; ; retries++ {
		resp, err := r.doOnce(client, req)
		if retries == maxRetries || !shouldRetry(resp, err) || req.Context().Err() != nil {
			return resp, err
		}
		wait := delay
		if resp != nil {
			wait = retryAfter(resp, delay)
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // so the connection can be used again
			resp.Body.Close()
		}
		if err := r.wait(req.Context(), wait); err != nil {
			return nil, err
		}
		delay *= 2
	}
}

// doOnce sends req once. The answer's body fails if the registry sends
// nothing for r.stallTimeout (see stallReader).
func (r *Repository) doOnce(client *http.Client, req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	resp.Body = &stallReader{body: resp.Body, ctx: ctx, cancel: cancel, timeout: r.stallTimeout}
	return resp, nil
}

// shouldRetry says whether a request may work if sent again: after a
// timeout, too many requests, or a server or the proxy before it that
// failed or is restarting (408, 429, 500, 502, 503, 504), or a failure
// to connect that may pass (see temporary).
func shouldRetry(resp *http.Response, err error) bool {
	if err != nil {
		return temporary(err)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// temporary says whether err is a failure to connect that may pass: a
// timeout, a name server that did not answer, a network or host not
// reachable yet. A refused connection is not: nothing listens there (a
// wrong port?), and trying again would only delay saying so.
func temporary(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		return false
	}
	return opErr.Timeout() || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)
}

// retryAfter is the wait that the answer asks for, in seconds or as a
// date, at most maxRetryAfter; or delay, if it asks for none.
func retryAfter(resp *http.Response, delay time.Duration) time.Duration {
	value := resp.Header.Get("Retry-After")
	if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
		return min(time.Duration(min(seconds, 3600))*time.Second, maxRetryAfter)
	}
	if date, err := http.ParseTime(value); err == nil {
		return min(max(time.Until(date), 0), maxRetryAfter)
	}
	return delay
}

// sleep waits d, or less if ctx ends first (the user pressed Ctrl-C).
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}

// errStalled is the cause of a request that its stallReader cancelled.
var errStalled = errors.New("the registry sent nothing")

// stallReader fails a body that sends nothing for a while. A connection
// that died without a word (a NAT entry forgotten, a cable pulled) gets
// no error from TCP for a long time, and the pull would hang; the timer
// cancels the request, which closes the connection, and so ends the Read.
type stallReader struct {
	body    io.ReadCloser
	ctx     context.Context // the request's, cancelled with errStalled
	cancel  context.CancelCauseFunc
	timeout time.Duration
	timer   *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	// The timer runs only while Read waits: a reader that takes its time
	// between two Reads is not a registry that stalls.
	if s.timer == nil {
		s.timer = time.AfterFunc(s.timeout, func() { s.cancel(errStalled) })
	} else {
		s.timer.Reset(s.timeout)
	}
	n, err := s.body.Read(p)
	s.timer.Stop()
	if err != nil && context.Cause(s.ctx) == errStalled {
		err = fmt.Errorf("%w for %v: the connection is stalled", errStalled, s.timeout)
	}
	return n, err
}

func (s *stallReader) Close() error {
	err := s.body.Close()
	s.cancel(nil)
	return err
}
