// Package vouch makes a workflow act only on what the engine's own
// processes asked for. The API and the workers hold an action key; their
// Temporal client stamps every update and every workflow start with an
// HMAC over what it asks (the workflow, the action, its id, the time and
// the arguments, where the staff member and their roles travel), and the
// worker refuses an update, or fails a start, whose stamp does not check.
// Whoever reaches Temporal's frontend without the key cannot sign off as
// someone else, nor start a case from a forged look-up.
package vouch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Header names of the stamps: one on an update, one on a workflow start.
const (
	UpdateHeader = "recovery-vouch"
	StartHeader  = "recovery-vouch-start"
)

// Window is how far a stamp's time may be from the time the update reaches
// the case (or the workflow was started): a stamp copied from a history is
// stale after it.
const Window = 10 * time.Minute

// ErrUnvouched is the error type of an action refused for its stamp.
const ErrUnvouched = "Unvouched"

// MinKeyLength is the shortest action key accepted, in bytes.
const MinKeyLength = 32

// Key is an action key and the id stamps name it by.
type Key struct {
	ID     string
	Secret []byte
}

// Keys are the key that stamps and every key that is still accepted: the
// current one and, while a rotation rolls out, the previous ones.
type Keys struct {
	current Key
	accept  map[string][]byte
	// argsFree are the workflow types that may start from an
	// update-with-start, whose arguments the SDK does not show to a client
	// interceptor: their start stamp binds the workflow id and the time
	// only.
	argsFree []string
	now      func() time.Time
}

// NewKeys checks the keys. current stamps; current and previous are
// accepted. argsFree names the workflow types started only by
// update-with-start (see Keys).
func NewKeys(current Key, previous []Key, argsFree ...string) (*Keys, error) {
	k := &Keys{current: current, accept: map[string][]byte{}, argsFree: argsFree, now: time.Now}
	for _, key := range append([]Key{current}, previous...) {
		switch {
		case key.ID == "":
			return nil, errors.New("an action key has no id")
		case len(key.Secret) < MinKeyLength:
			return nil, fmt.Errorf("action key %q is shorter than %d characters", key.ID, MinKeyLength)
		case k.accept[key.ID] != nil:
			return nil, fmt.Errorf("action key id %q is listed twice", key.ID)
		}
		k.accept[key.ID] = key.Secret
	}
	return k, nil
}

// Interceptor stamps the calls of the client it is given to (in
// client.Options.Interceptors) and checks the stamps in every worker made
// from that client.
func (k *Keys) Interceptor() interceptor.Interceptor { return &both{keys: k} }

type both struct {
	interceptor.InterceptorBase
	keys *Keys
}

func (b *both) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	o := &stamper{keys: b.keys}
	o.Next = next
	return o
}

func (b *both) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &checker{keys: b.keys}
	i.Next = next
	return i
}

// stamp is a header's value.
type stamp struct {
	KeyID string    `json:"kid"`
	At    time.Time `json:"at"`
	MAC   []byte    `json:"mac"`
	// NoArgs: a start stamp that binds no arguments (update-with-start).
	NoArgs bool `json:"no_args,omitempty"`
}

// What a stamp is for; part of the MAC, so that one kind cannot pass for
// the other.
const (
	kindUpdate = "update"
	kindStart  = "start"
)

// mac is the HMAC-SHA256 of an action: each field length-prefixed, the
// arguments as JSON (which both ends produce alike from the same types).
func mac(secret []byte, kind, workflowID, name, id string, at time.Time, noArgs bool, args []any) ([]byte, error) {
	var buf bytes.Buffer
	field := func(b []byte) {
		buf.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		buf.Write(b)
	}
	field([]byte(kind))
	field([]byte(workflowID))
	field([]byte(name))
	field([]byte(id))
	field(binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())))
	if noArgs {
		field([]byte("no-args"))
	} else {
		if args == nil {
			args = []any{}
		}
		js, err := canonical(args)
		if err != nil {
			return nil, fmt.Errorf("vouch: arguments: %w", err)
		}
		field(js)
	}
	h := hmac.New(sha256.New, secret)
	h.Write(buf.Bytes())
	return h.Sum(nil), nil
}

// canonical is the JSON of args as both ends see it: the client has the
// values it sends, the worker the values it decoded from them, so the
// JSON is read back as plain values (numbers kept as their text) and
// written again, which evens out what a round trip changes (an invalid
// UTF-8 byte becomes U+FFFD, written escaped on one side and raw on the
// other).
func canonical(args []any) ([]byte, error) {
	js, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return nil, err
	}
	return json.Marshal(plain)
}

func (k *Keys) sign(header map[string]*commonpb.Payload, name, kind, workflowID, action, id string, noArgs bool, args []any) error {
	if header == nil {
		return errors.New("vouch: the call carries no header")
	}
	at := k.now().UTC()
	sum, err := mac(k.current.Secret, kind, workflowID, action, id, at, noArgs, args)
	if err != nil {
		return err
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(stamp{KeyID: k.current.ID, At: at, MAC: sum, NoArgs: noArgs})
	if err != nil {
		return err
	}
	header[name] = p
	return nil
}

// check verifies a stamp against the action and the time it is judged at.
func (k *Keys) check(p *commonpb.Payload, kind, workflowID, action, id string, at time.Time, args []any, argsFree bool) error {
	if p == nil {
		return errors.New("the action carries no stamp of the engine")
	}
	var s stamp
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return errors.New("the action's stamp cannot be read")
	}
	secret := k.accept[s.KeyID]
	if secret == nil {
		return fmt.Errorf("the action is stamped with the unknown key %q", s.KeyID)
	}
	if s.NoArgs {
		if !argsFree {
			return errors.New("the action's stamp does not cover its arguments")
		}
		action = "" // such a stamp names the workflow only
	}
	want, err := mac(secret, kind, workflowID, action, id, s.At, s.NoArgs, args)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, s.MAC) {
		return errors.New("the action's stamp does not match it")
	}
	if d := at.Sub(s.At); d > Window || d < -Window {
		return fmt.Errorf("the action's stamp is from %s, not within %s of %s", s.At.Format(time.RFC3339), Window, at.UTC().Format(time.RFC3339))
	}
	return nil
}

// stamper stamps the client's updates and starts.
type stamper struct {
	interceptor.ClientOutboundInterceptorBase
	keys *Keys
}

func (o *stamper) UpdateWorkflow(ctx context.Context, in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if err := o.keys.sign(interceptor.Header(ctx), UpdateHeader, kindUpdate, in.WorkflowID, in.UpdateName, in.UpdateID, false, in.Args); err != nil {
		return nil, err
	}
	return o.Next.UpdateWorkflow(ctx, in)
}

func (o *stamper) ExecuteWorkflow(ctx context.Context, in *interceptor.ClientExecuteWorkflowInput) (client.WorkflowRun, error) {
	if in.Options.ID == "" {
		// The stamp binds the id, so it is chosen here rather than by the SDK.
		in.Options.ID = randomID()
	}
	if err := o.keys.sign(interceptor.Header(ctx), StartHeader, kindStart, in.Options.ID, in.WorkflowType, "", false, in.Args); err != nil {
		return nil, err
	}
	return o.Next.ExecuteWorkflow(ctx, in)
}

// UpdateWithStartWorkflow stamps the update in full and the start by its
// workflow id: the SDK does not show the start's arguments here.
func (o *stamper) UpdateWithStartWorkflow(ctx context.Context, in *interceptor.ClientUpdateWithStartWorkflowInput) (client.WorkflowUpdateHandle, error) {
	u := in.UpdateOptions
	if u.WorkflowID == "" {
		return nil, errors.New("vouch: an update-with-start names its workflow id in its update options")
	}
	if u.UpdateID == "" {
		u.UpdateID = randomID()
	}
	h := interceptor.Header(ctx)
	if err := o.keys.sign(h, UpdateHeader, kindUpdate, u.WorkflowID, u.UpdateName, u.UpdateID, false, u.Args); err != nil {
		return nil, err
	}
	if err := o.keys.sign(h, StartHeader, kindStart, u.WorkflowID, "", "", true, nil); err != nil {
		return nil, err
	}
	return o.Next.UpdateWithStartWorkflow(ctx, in)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// checker refuses unstamped updates and fails unstamped starts.
type checker struct {
	interceptor.WorkflowInboundInterceptorBase
	keys *Keys
}

// ValidateUpdate is not called while a history replays (the SDK records
// the accepted updates), so a retired key never changes a replay.
func (i *checker) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	info := workflow.GetInfo(ctx)
	var updateID string
	if u := workflow.GetCurrentUpdateInfo(ctx); u != nil {
		updateID = u.ID
	}
	err := i.keys.check(interceptor.WorkflowHeader(ctx)[UpdateHeader], kindUpdate, info.WorkflowExecution.ID, in.Name, updateID, workflow.Now(ctx), in.Args, false)
	if err != nil {
		// Someone reached Temporal without the key, or a process runs
		// with another one: the operator must hear of either.
		workflow.GetLogger(ctx).Warn("refused an update the engine did not vouch for", "update", in.Name, "reason", err.Error())
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s refused: %v", in.Name, err), ErrUnvouched, nil)
	}
	return i.Next.ValidateUpdate(ctx, in)
}

// ExecuteWorkflow checks a new workflow's start stamp before it takes any
// step. Only the first workflow task of a first run is judged: on replay
// the run already passed (a refused one ended there), and a continued or
// retried run is started by the server from a run that passed.
func (i *checker) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	info := workflow.GetInfo(ctx)
	if !workflow.IsReplaying(ctx) && info.ContinuedExecutionRunID == "" && info.Attempt <= 1 {
		argsFree := slices.Contains(i.keys.argsFree, info.WorkflowType.Name)
		err := i.keys.check(interceptor.WorkflowHeader(ctx)[StartHeader], kindStart, info.WorkflowExecution.ID, info.WorkflowType.Name, "", info.WorkflowStartTime, in.Args, argsFree)
		if err != nil {
			workflow.GetLogger(ctx).Warn("refused a workflow start the engine did not vouch for", "reason", err.Error())
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s %s not started: %v", info.WorkflowType.Name, info.WorkflowExecution.ID, err), ErrUnvouched, nil)
		}
	}
	return i.Next.ExecuteWorkflow(ctx, in)
}
