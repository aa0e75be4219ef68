package payloadcodec_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery/internal/payloadcodec"
	"github.com/misdeposit/recovery/internal/temporaldev"
)

func newKey(t *testing.T, id string) payloadcodec.Key {
	t.Helper()
	secret := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	return payloadcodec.Key{ID: id, Secret: secret}
}

func newCodec(t *testing.T, current string, keys ...payloadcodec.Key) *payloadcodec.Codec {
	t.Helper()
	c, err := payloadcodec.New(current, keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type appeal struct {
	UserID    string
	ToAddress string
	Memo      string
	Contact   string
}

var personal = appeal{UserID: "user-8812-secret", ToAddress: "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01", Memo: "memo-77031", Contact: "alice@example.org"}

func (a appeal) fields() []string { return []string{a.UserID, a.ToAddress, a.Memo, a.Contact} }

// TestEncodedPayloadHidesPersonalData: what the engine hands Temporal holds
// none of the appeal's personal data, and the engine reads it back whole.
func TestEncodedPayloadHidesPersonalData(t *testing.T) {
	dc := newCodec(t, "k1", newKey(t, "k1")).DataConverter()
	p, err := dc.ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.Marshal()
	for _, f := range personal.fields() {
		if bytes.Contains(raw, []byte(f)) {
			t.Errorf("encoded payload holds %q in plain text", f)
		}
	}
	if got := string(p.Metadata[payloadcodec.MetadataKeyID]); got != "k1" {
		t.Errorf("key id in metadata = %q, want k1", got)
	}
	var back appeal
	if err := dc.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back != personal {
		t.Errorf("read back %+v, want %+v", back, personal)
	}
}

// TestRotation: after a new current key is added, payloads sealed under the
// old key still open, and new ones are sealed under the new key.
func TestRotation(t *testing.T) {
	old, next := newKey(t, "2025-01"), newKey(t, "2026-01")
	before := newCodec(t, old.ID, old).DataConverter()
	p, err := before.ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	after := newCodec(t, next.ID, next, old).DataConverter()
	var back appeal
	if err := after.FromPayload(p, &back); err != nil {
		t.Fatalf("payload under the old key after rotation: %v", err)
	}
	if back != personal {
		t.Errorf("read back %+v, want %+v", back, personal)
	}
	q, err := after.ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(q.Metadata[payloadcodec.MetadataKeyID]); got != next.ID {
		t.Errorf("new payload sealed under %q, want the current key %q", got, next.ID)
	}
}

// TestUnknownKeyFailsClearly: a payload sealed under a key the engine was
// not given fails with an error naming that key id, not with garbage.
func TestUnknownKeyFailsClearly(t *testing.T) {
	p, err := newCodec(t, "retired", newKey(t, "retired")).DataConverter().ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	var back appeal
	err = newCodec(t, "current", newKey(t, "current")).DataConverter().FromPayload(p, &back)
	if !errors.Is(err, payloadcodec.ErrUnknownKey) || !strings.Contains(err.Error(), `"retired"`) {
		t.Fatalf("error = %v, want ErrUnknownKey naming key id \"retired\"", err)
	}
}

// TestTamperedPayloadRefused: a payload whose ciphertext was changed, or
// whose key id was relabelled, does not open.
func TestTamperedPayloadRefused(t *testing.T) {
	a, b := newKey(t, "a"), newKey(t, "b")
	b.Secret = a.Secret // same secret: only the bound key id differs
	dc := newCodec(t, "a", a, b).DataConverter()
	p, err := dc.ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	relabelled := &commonpb.Payload{Data: p.Data, Metadata: map[string][]byte{converter.MetadataEncoding: []byte(payloadcodec.Encoding), payloadcodec.MetadataKeyID: []byte("b")}}
	var back appeal
	if err := dc.FromPayload(relabelled, &back); err == nil {
		t.Error("relabelled payload opened")
	}
	flipped := &commonpb.Payload{Metadata: p.Metadata, Data: append([]byte(nil), p.Data...)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	if err := dc.FromPayload(flipped, &back); err == nil {
		t.Error("tampered payload opened")
	}
}

// TestUnencryptedPayloadsPassThrough: histories recorded before encryption
// (testdata/, a data dir from an older version) hold plain JSON payloads;
// the codec reads them as they are.
func TestUnencryptedPayloadsPassThrough(t *testing.T) {
	p, err := converter.GetDefaultDataConverter().ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	var back appeal
	if err := newCodec(t, "k", newKey(t, "k")).DataConverter().FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back != personal {
		t.Errorf("read back %+v, want %+v", back, personal)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	k := newKey(t, "k")
	for name, tc := range map[string]struct {
		current string
		keys    []payloadcodec.Key
	}{
		"current not listed": {"other", []payloadcodec.Key{k}},
		"short key":          {"s", []payloadcodec.Key{{ID: "s", Secret: make([]byte, 16)}}},
		"duplicate id":       {"k", []payloadcodec.Key{k, k}},
		"no id":              {"", []payloadcodec.Key{{Secret: k.Secret}}},
	} {
		if _, err := payloadcodec.New(tc.current, tc.keys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCodecEndpoint: the Web UI's codec endpoint decodes for a member of
// staff and refuses anyone without credentials; it answers the UI's CORS
// preflight.
func TestCodecEndpoint(t *testing.T) {
	const token, origin = "staff-token", "http://127.0.0.1:8233"
	codec := newCodec(t, "k", newKey(t, "k"))
	srv := httptest.NewServer(codec.Handler(func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Bearer "+token
	}, origin))
	defer srv.Close()

	p, err := codec.DataConverter().ToPayload(personal)
	if err != nil {
		t.Fatal(err)
	}
	remote := func(auth string) converter.DataConverter {
		return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
			Endpoint: srv.URL,
			ModifyRequest: func(r *http.Request) error {
				if auth != "" {
					r.Header.Set("Authorization", auth)
				}
				return nil
			},
		}))
	}
	var back appeal
	if err := remote("Bearer "+token).FromPayload(p, &back); err != nil {
		t.Fatalf("staff decode: %v", err)
	}
	if back != personal {
		t.Errorf("staff read %+v, want %+v", back, personal)
	}
	for _, auth := range []string{"", "Bearer wrong"} {
		if err := remote(auth).FromPayload(p, &back); err == nil {
			t.Errorf("decode with Authorization %q succeeded", auth)
		}
	}

	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("preflight Access-Control-Allow-Origin = %q, want %q", got, origin)
	}
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight from another origin allowed: %q", got)
	}
}

// TestHistoryStoredEncrypted runs a workflow through a real Temporal with
// the codec, then reads its history as stored, with a client that has no
// codec: none of the personal data is there in plain text, while the
// workflow itself and a query read it whole.
func TestHistoryStoredEncrypted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal")
	}
	srv, err := temporaldev.Start(temporaldev.Options{LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	codec := newCodec(t, "k1", newKey(t, "k1"))
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), DataConverter: codec.DataConverter()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	plain, err := client.Dial(client.Options{HostPort: srv.FrontendAddress()})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	const queue = "payloadcodec-test"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, a appeal) (appeal, error) {
		if err := workflow.SetQueryHandler(ctx, "appeal", func() (appeal, error) { return a, nil }); err != nil {
			return appeal{}, err
		}
		workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
		return a, nil
	}, workflow.RegisterOptions{Name: "Appeal"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "appeal-1", TaskQueue: queue}, "Appeal", personal)
	if err != nil {
		t.Fatal(err)
	}
	var queried appeal
	for {
		v, err := c.QueryWorkflow(ctx, run.GetID(), "", "appeal")
		if err == nil {
			if err := v.Get(&queried); err != nil {
				t.Fatal(err)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("query: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if queried != personal {
		t.Errorf("query read %+v, want %+v", queried, personal)
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), "", "go", nil); err != nil {
		t.Fatal(err)
	}
	var result appeal
	if err := run.Get(ctx, &result); err != nil {
		t.Fatal(err)
	}
	if result != personal {
		t.Errorf("result %+v, want %+v", result, personal)
	}

	it := plain.GetWorkflowHistory(ctx, run.GetID(), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		raw, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range personal.fields() {
			if bytes.Contains(raw, []byte(f)) {
				t.Errorf("history event %d (%s) holds %q in plain text", e.EventId, e.EventType, f)
			}
		}
	}
	if events < 5 {
		t.Fatalf("read %d history events, want the whole run", events)
	}
}
