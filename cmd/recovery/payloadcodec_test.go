package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
	"github.com/misdeposit/recovery/internal/payloadcodec"
)

// TestCaseHistoryHoldsNoPersonalData: a case filed through the engine is
// stored in Temporal with none of the appeal's personal data (user id,
// address, memo, contact) in plain text, as anyone reading the history
// without the payload key (the Web UI, a database dump) sees it; the engine
// itself still reads the case, and staff read it decrypted through the
// codec endpoint, which refuses anyone else.
func TestCaseHistoryHoldsNoPersonalData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	_, senderAddr := nodetest.Key(t)
	node, _ := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(big.NewInt(1), senderAddr)})
	e, _, temporalAddr := startOnNode(t, node.URL(), "", "")
	defer e.stop(t)

	const userID, memo, contact = "zoe-private-7731", "memo-secret-4411", "zoe.private@example.org"
	var issued struct{ Token, Address string }
	if code := call(t, "POST", e.api+"/v1/dev/user-token", "", map[string]any{"user_id": userID}, &issued); code != 200 {
		t.Fatalf("user token: %d", code)
	}
	token := issued.Token
	if code := call(t, "GET", e.api+"/v1/deposit-address?user_id="+userID+"&network=eth", "", nil, &issued); code != 200 {
		t.Fatalf("deposit address: %d", code)
	}
	address := issued.Address
	hash := make([]byte, 32)
	if _, err := rand.Read(hash); err != nil {
		t.Fatal(err)
	}
	var created struct {
		AppealID string `json:"appeal_id"`
	}
	if code := call(t, "POST", e.api+"/v1/appeals", token, map[string]any{"network": "eth", "tx_hash": "0x" + hex.EncodeToString(hash),
		"to_address": address, "memo": memo, "user_id": userID, "contact": contact}, &created); code != 202 {
		t.Fatalf("appeal: %d", code)
	}
	// The engine reads its own case (a query through the codec).
	waitFor(t, e.api, token, created.AppealID, "a status", func(a appealStatus) bool { return a.Status != "" })

	secrets := []string{userID, memo, contact, address, strings.ToLower(address), strings.TrimPrefix(strings.ToLower(address), "0x")}
	var input json.RawMessage
	for _, ev := range historyWithoutKey(t, temporalAddr, created.AppealID, secrets) {
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			var err error
			if input, err = json.Marshal(a.GetInput()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if input == nil {
		t.Fatal("no start event in the case's history")
	}

	decode := func(auth string) (int, []byte) {
		req, _ := http.NewRequest("POST", e.api+codecPath+"/decode", bytes.NewReader(input))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return resp.StatusCode, body.Bytes()
	}
	code, body := decode("wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg")
	var decoded commonpb.Payloads
	if code != 200 {
		t.Fatalf("staff decode: %d %s", code, body)
	}
	if err := json.Unmarshal(body, &decoded); err != nil || len(decoded.Payloads) == 0 {
		t.Fatalf("staff decode: %v %s", err, body)
	}
	if p := decoded.Payloads[0]; !bytes.Contains(p.Data, []byte(userID)) || !bytes.Contains(p.Data, []byte(contact)) {
		t.Errorf("staff decode does not show the appeal: %s", p.Data)
	}
	for _, auth := range []string{"", token} {
		if code, _ := decode(auth); code != http.StatusUnauthorized {
			t.Errorf("decode with token %q: %d, want 401", auth, code)
		}
	}
}

// TestDevWebUIDecodesPayloads: recovery dev's Web UI is pointed at a codec
// endpoint that decodes the cases' encrypted payloads for the UI's page,
// and whose answers no other site's page may read.
func TestDevWebUIDecodesPayloads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	_, senderAddr := nodetest.Key(t)
	node, _ := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(big.NewInt(1), senderAddr)})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "recovery.yaml")
	if err := os.WriteFile(cfgPath, []byte("networks:\n  - {id: eth, rpc: ["+node.URL()+"], chain_id: 1337, confirmations: 2}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	uiPort := freePort(t)
	e := startEngine(t, []string{"dev", "--config", cfgPath, "--data-dir", dir, "--api-addr", "127.0.0.1:0",
		"--temporal-address", "127.0.0.1:" + freePort(t), "--ui-port", uiPort, "--log-level", "error"})
	defer e.stop(t)
	if info, err := os.Stat(filepath.Join(dir, "payload-key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("payload key file: %v %v", info, err)
	}

	var settings struct{ Codec struct{ Endpoint string } }
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://127.0.0.1:" + uiPort + "/api/v1/settings")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&settings)
			resp.Body.Close()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web ui settings: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if settings.Codec.Endpoint == "" {
		t.Fatal("the Web UI has no codec endpoint")
	}
	key, err := os.ReadFile(filepath.Join(dir, "payload-key"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.New("dev", []payloadcodec.Key{{ID: "dev", Secret: raw}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := codec.DataConverter().ToPayload(map[string]string{"contact": "ui.private@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"http://127.0.0.1:" + uiPort, "http://evil.example"} {
		req, _ := http.NewRequest("POST", settings.Codec.Endpoint+"/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var decoded commonpb.Payloads
		err = json.NewDecoder(resp.Body).Decode(&decoded)
		resp.Body.Close()
		allowed := resp.Header.Get("Access-Control-Allow-Origin") == origin
		if origin == "http://evil.example" {
			if allowed {
				t.Errorf("codec endpoint lets %s read its answers", origin)
			}
			continue
		}
		if err != nil || len(decoded.Payloads) != 1 || !bytes.Contains(decoded.Payloads[0].Data, []byte("ui.private@example.org")) || !allowed {
			t.Errorf("the Web UI's page does not read decoded payloads: %d %v %v", resp.StatusCode, err, &decoded)
		}
	}
}

// historyWithoutKey reads the case's history as Temporal holds it (no
// payload key: as its Web UI or a database dump shows it) and reports
// every event that holds one of secrets in plain text.
func historyWithoutKey(t *testing.T, temporalAddr, caseID string, secrets []string) []*historypb.HistoryEvent {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var events []*historypb.HistoryEvent
	for it := c.GetWorkflowHistory(ctx, caseID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT); it.HasNext(); {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("history event %d (%s) holds %q in plain text", ev.EventId, ev.EventType, s)
			}
		}
		events = append(events, ev)
	}
	return events
}

// Guessing staff tokens at the codec endpoint counts with the API's
// failed sign-ins: once the address has used its allowance there, even
// the right token is refused until the wait is over.
func TestCodecEndpointSharesTheSignInThrottle(t *testing.T) {
	const token = "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg"
	codec, err := payloadcodec.New("1", []payloadcodec.Key{{ID: "1", Secret: bytes.Repeat([]byte{7}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	staff, signIns := api.NewStaffTokens(), api.NewSignInThrottle()
	staff.AddToken(token, api.Staff{Person: "wanda", Roles: []string{"wallet"}})
	h := withCodecEndpoint(http.NotFoundHandler(), staff, signIns, codec, "")
	decode := func(from, bearer string) int {
		req := httptest.NewRequest("POST", codecPath+"/decode", strings.NewReader(`{"payloads":[]}`))
		req.RemoteAddr = from
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := decode("192.0.2.9:1", token); code != 200 {
		t.Fatalf("staff decode: %d, want 200", code)
	}
	for i := range 10 {
		if code := decode("198.51.100.7:1", fmt.Sprintf("guess-%d", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	if code := decode("198.51.100.7:1", token); code == 200 {
		t.Fatal("the guessing address decoded with the right token at once")
	}
	if wait := signIns.Blocked("198.51.100.7", time.Now()); wait <= 0 {
		t.Fatal("the API's throttle did not hear of the codec endpoint's failures")
	}
	if code := decode("192.0.2.9:1", token); code != 200 {
		t.Fatalf("another address: %d, want 200", code)
	}
}
