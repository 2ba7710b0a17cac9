//chapter:images

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

	"github.com/mydocker/mydocker/mydocker/internal/image"
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
// Each answer must come as limit says (see doOnce).
func (r *Repository) do(client *http.Client, req *http.Request, limit bodyLimit) (*http.Response, error) {
	delay := r.retryDelay
	for retries := 0; ; retries++ {
		resp, err := r.doOnce(client, req, limit)
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

// doOnce sends req once, and holds its answer to limit (see bodyLimit):
// an answer too slow cancels the request, with errTooSlow as the cause,
// which closes the connection and so ends a Read that waits for it.
func (r *Repository) doOnce(client *http.Client, req *http.Request, limit bodyLimit) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	var deadline *time.Timer
	if limit.deadline > 0 {
		deadline = time.AfterFunc(limit.deadline, func() { cancel(errTooSlow) })
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		if deadline != nil {
			deadline.Stop()
		}
		cancel(nil) // a request cancelled already keeps its first cause
		if context.Cause(ctx) == errTooSlow {
			return nil, fmt.Errorf("%s sent no answer (for %s) within %v: %s", req.URL.Host, limit.what, limit.deadline, tooSlowAdvice)
		}
		return nil, err
	}
	resp.Body = &limitedBody{body: resp.Body, ctx: ctx, cancel: cancel, limit: limit, deadline: deadline,
		host: resp.Request.URL.Host} // after a redirect, the host that sends the body
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

// A bodyLimit says how fast an answer must come. TCP alone gives no
// error for a connection that died without a word (a NAT entry
// forgotten, a cable pulled), nor for a registry that sends one byte now
// and then: each byte is progress to a timer that waits for silence,
// and the answer's headers came long ago. Either would hold a pull for
// hours.
type bodyLimit struct {
	what string // what the body is, for the error: "the manifest", "blob sha256:..."

	// A document (a token, a manifest) is small: it must come whole,
	// headers and body, within deadline.
	deadline time.Duration

	// A blob may be large and the network slow: it must bring at least
	// minBytes in every window of waiting. A blob smaller than minBytes
	// (a config) must so come whole within one window.
	minBytes int64
	window   time.Duration
}

// documentLimit is the limit of a token or a manifest.
func (r *Repository) documentLimit(what string) bodyLimit {
	return bodyLimit{what: what, deadline: r.documentTimeout}
}

// blobLimit is the limit of a blob: a config or a layer.
func (r *Repository) blobLimit(digest image.Digest) bodyLimit {
	return bodyLimit{what: "blob " + string(digest), minBytes: r.blobMinBytes, window: r.blobWindow}
}

// errTooSlow is the cause of a request that its bodyLimit cancelled.
var errTooSlow = errors.New("too slow")

// tooSlowAdvice ends the errors of an answer that came too slowly.
const tooSlowAdvice = "the registry or the network is stalled or too slow; try again later"

// limitedBody is an answer's body held to its bodyLimit: a document's
// deadline runs from the request on; a blob's window runs only while
// Read waits, so that a reader that takes its time between two Reads is
// not taken for a slow registry.
type limitedBody struct {
	body     io.ReadCloser
	ctx      context.Context // the request's, cancelled with errTooSlow
	cancel   context.CancelCauseFunc
	limit    bodyLimit
	deadline *time.Timer // a document's
	host     string      // who sends the body
	n        int64       // bytes read

	// A blob's: the time spent in Read, and the bytes read, since the
	// body last brought minBytes; and the timer of what is left.
	waited time.Duration
	got    int64
	timer  *time.Timer
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.limit.minBytes == 0 { // a document, whose deadline is running
		n, err := b.body.Read(p)
		b.n += int64(n)
		if err != nil && context.Cause(b.ctx) == errTooSlow {
			err = fmt.Errorf("%s sent only %d bytes of %s within %v, the most it may take: %s",
				b.host, b.n, b.limit.what, b.limit.deadline, tooSlowAdvice)
		}
		return n, err
	}
	left := b.limit.window - b.waited
	if b.timer == nil {
		b.timer = time.AfterFunc(left, func() { b.cancel(errTooSlow) })
	} else {
		b.timer.Reset(left)
	}
	start := time.Now()
	n, err := b.body.Read(p)
	b.timer.Stop()
	b.n += int64(n)
	b.waited += time.Since(start)
	b.got += int64(n)
	if b.got >= b.limit.minBytes { // enough for this window: the next one starts
		b.waited, b.got = 0, 0
	}
	if err != nil && context.Cause(b.ctx) == errTooSlow {
		err = fmt.Errorf("%s sent only %d bytes of %s in %v, and a blob must bring at least %d bytes in every %v (%.0f bytes/s): %s",
			b.host, b.got, b.limit.what, b.limit.window, b.limit.minBytes, b.limit.window,
			float64(b.limit.minBytes)/b.limit.window.Seconds(), tooSlowAdvice)
	}
	return n, err
}

func (b *limitedBody) Close() error {
	if b.deadline != nil {
		b.deadline.Stop()
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.body.Close()
	b.cancel(nil)
	return err
}
