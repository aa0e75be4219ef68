// Package memonet owns what the adapters of the account+memo networks
// (xrp, xlm, atom) share in reaching their servers: the checks a Dial
// makes, the HTTP client an Option replaces, one bounded HTTP exchange,
// and the EUnavailable error every failure to get an answer becomes. What
// each server answers, and how it says "not found", stays in its adapter.
package memonet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// MaxAnswer bounds what is read of one answer: the largest the adapters
// read (a relayer's Cosmos transaction with dozens of packets, a Stellar
// transaction's 100 operations) are a few hundred kilobytes.
const MaxAnswer = 4 << 20

// Conn is one adapter's way to its server: the network it reads, the
// endpoint it was dialled with, and the HTTP client it sends with.
type Conn struct {
	Network chains.Network
	// Endpoint is the endpoint as given; URL is it parsed.
	Endpoint string
	URL      *url.URL
	HTTP     *http.Client
	adapter  string // names the adapter in its errors: "xrp"
}

// Dial checks that network is of the memo family and endpoint an http(s)
// URL, and returns a Conn to it with a 30-second HTTP client, changed by
// opts. adapter names the adapter in the errors it returns.
func Dial[O ~func(*Conn)](adapter string, network chains.Network, endpoint string, opts ...O) (*Conn, error) {
	if network.Family != recovery.FamilyMemo {
		return nil, fmt.Errorf("%s dial %s: network family is %q, not memo", adapter, network.ID, network.Family)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s dial %s: the rpc endpoint is not an http(s) URL", adapter, network.ID)
	}
	c := &Conn{Network: network, Endpoint: endpoint, URL: u, HTTP: &http.Client{Timeout: 30 * time.Second}, adapter: adapter}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// WithHTTPClient makes the Conn send its requests with h.
func WithHTTPClient(h *http.Client) func(*Conn) { return func(c *Conn) { c.HTTP = h } }

// Request is one request to the server. A Body is sent as JSON.
type Request struct {
	Method string
	URL    string
	Accept string
	Body   []byte
}

// Do sends r and returns the answer's HTTP status and at most MaxAnswer
// bytes of its body, whatever the status. Not getting the whole answer
// is EUnavailable (see Unavailable), the request's URL never in the
// error: it may carry a provider's key.
func (c *Conn) Do(ctx context.Context, op string, r Request) (status int, body []byte, err error) {
	var rb io.Reader
	if r.Body != nil {
		rb = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, rb)
	if err != nil {
		return 0, nil, c.Unavailable(op, errors.New("the request cannot be built"))
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may carry a provider's key.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, c.Unavailable(op, err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	switch {
	case err != nil:
		return 0, nil, c.Unavailable(op, err)
	case len(text) > MaxAnswer:
		return 0, nil, c.Unavailable(op, errors.New("answer too large"))
	}
	return resp.StatusCode, text, nil
}

// Unavailable is the error of a server that gave no usable answer to op:
// EUnavailable, so that the caller retries or asks another server, with
// cause kept for the logs.
func (c *Conn) Unavailable(op string, cause error) error {
	e := &recovery.Error{Code: recovery.EUnavailable, Message: fmt.Sprintf("the %s node did not answer; try again later", c.Network.ID)}
	return fmt.Errorf("%s %s: %s: %w: %w", c.adapter, c.Network.ID, op, e, cause)
}
