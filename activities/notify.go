package activities

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery/workflows"
)

// ErrNotificationRefused is the type of the non-retryable error of a
// notification the notification service refused (a 4xx answer): sending
// it again would be refused again.
const ErrNotificationRefused = "NotificationRefused"

// Notifier delivers a notification to its user.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is what a user is told about their case: the JSON body
// posted to the exchange's notification service, one line of the dev
// outbox.
type Notification struct {
	// IdempotencyKey is the same on every attempt to deliver it
	// (appeal id/event/sequence number): a receiver sends it once.
	IdempotencyKey string `json:"idempotency_key"`
	AppealID       string `json:"appeal_id"`
	UserID         string `json:"user_id"`
	Contact        string `json:"contact"`
	Lang           string `json:"lang"`
	// Event is the timeline code (quote.offered, recovery.credited…),
	// Message its text in Lang, as the appeal's timeline shows it, and
	// Params the values in it.
	Event   string            `json:"event"`
	Message string            `json:"message"`
	Params  map[string]string `json:"params,omitempty"`
	// Status is the case's status after the event.
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	// Seq numbers the case's notifications from 1 in the order the case
	// made them. Retries can deliver them out of that order: a receiver
	// that has shown a higher Seq for the appeal keeps it over a lower one.
	Seq int `json:"seq"`
}

// NotifyUser tells the user who filed an appeal what happened to it, at
// the contact they gave. A refusal of the notification service is not
// retried (it is logged and the case goes on); an outage is, by the
// workflow's retry policy.
func (a *Activities) NotifyUser(ctx context.Context, req workflows.NotifyRequest) error {
	if a.Notifier == nil {
		// Another worker, configured with notify_url, may take it.
		return errors.New("this worker sends no notifications: notify_url is not set")
	}
	lang := req.Lang
	if lang == "" {
		lang = "en"
	}
	msg := req.Event
	if a.Texts != nil {
		msg = a.Texts(lang, req.Event, req.Params)
	}
	n := Notification{
		IdempotencyKey: req.IdempotencyKey(), AppealID: req.AppealID, UserID: req.UserID, Contact: req.Contact,
		Lang: lang, Event: req.Event, Message: msg, Params: req.Params, Status: req.Status, At: req.At.UTC(), Seq: req.Seq,
	}
	err := a.Notifier.Notify(ctx, n)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		// The contact stays out of the log: it is the user's.
		activity.GetLogger(ctx).Warn("notification refused", "appeal", req.AppealID, "event", req.Event, "err", err)
	}
	return err
}

// Webhook posts notifications to the exchange's notification service.
// Each request carries the notification's Idempotency-Key and
// X-Recovery-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>"
// under the shared secret>, which the receiver checks (and the time, to
// refuse an old request replayed).
type Webhook struct {
	URL    string
	Secret []byte
	// Client sends the requests; nil is one with a 30 s timeout that
	// follows no redirect (the body holds the user's contact).
	Client *http.Client
	// Now is the clock of the signatures; nil means time.Now.
	Now func() time.Time
}

var defaultWebhookClient = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Notify posts n: a 2xx answer delivered it; 4xx but 408 and 429 refused
// it for good; anything else, or no answer, is worth another attempt.
func (w *Webhook) Notify(ctx context.Context, n Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("notification: "+err.Error(), ErrNotificationRefused, err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError("notify_url: "+err.Error(), ErrNotificationRefused, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", n.IdempotencyKey)
	req.Header.Set("X-Recovery-Signature", signNotification(w.Secret, now().Unix(), body))
	client := w.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL may hold credentials: its error is told without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notification service unreachable: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		opts := temporal.ApplicationErrorOptions{}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			opts.NextRetryDelay = time.Duration(s) * time.Second
		}
		return temporal.NewApplicationErrorWithOptions("the notification service answered "+resp.Status, "NotificationDeferred", opts)
	case code >= 400 && code < 500:
		return temporal.NewNonRetryableApplicationError("the notification service refused the notification: "+resp.Status, ErrNotificationRefused, nil)
	}
	return fmt.Errorf("the notification service answered %s", resp.Status)
}

// signNotification is the X-Recovery-Signature of body sent at t.
func signNotification(secret []byte, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Outbox appends each notification as one JSON line to a file instead of
// sending it: recovery dev's stand-in for the exchange's notification
// service, which a developer can tail. A notification whose idempotency
// key is already in the file is not written again.
type Outbox struct {
	Path string
	mu   sync.Mutex
}

// Notify appends n unless the file has it.
func (o *Outbox) Notify(_ context.Context, n Notification) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.OpenFile(o.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	old, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, line := range bytes.Split(old, []byte("\n")) {
		var sent struct {
			Key string `json:"idempotency_key"`
		}
		if json.Unmarshal(line, &sent) == nil && sent.Key == n.IdempotencyKey {
			return nil
		}
	}
	line, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		// A line cut short by a crash keeps to itself.
		line = append([]byte("\n"), line...)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return f.Sync()
}
