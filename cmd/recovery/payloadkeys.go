package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/internal/payloadcodec"
)

// codecPath is where the API serves Temporal's remote codec protocol
// (codecPath+"/decode", codecPath+"/encode") to staff, for the Web UI and
// tctl to show decrypted payloads.
const codecPath = "/v1/codec"

// makePayloadKey is how an operator makes a payload key: 32 random bytes
// in base64, as payload_keys and RECOVERY_PAYLOAD_KEY take them.
const makePayloadKey = "openssl rand -base64 32"

// needPayloadKey refuses to run recovery api or recovery worker without a
// payload key: they would store the cases' personal data in Temporal's
// history in plain text, for anyone who reads the history or a database
// dump. No setting turns this off: a key costs one command, and payloads
// written before there was one are still read once it is set.
func needPayloadKey(cfg config.Config) error {
	if len(cfg.PayloadKeys) > 0 {
		return nil
	}
	return errors.New("a payload key is required: the key the API and the workers encrypt the users' personal data in Temporal's history with, the same in both; set RECOVERY_PAYLOAD_KEY (or payload_keys and payload_key_id in the config file) to 32 random bytes in base64, made with `" + makePayloadKey + "`")
}

// payloadCodec is the codec encrypting the engine's workflow payloads
// under the configured keys, or nil when none is configured.
func payloadCodec(cfg config.Config) (*payloadcodec.Codec, error) {
	if len(cfg.PayloadKeys) == 0 {
		return nil, nil
	}
	keys := make([]payloadcodec.Key, 0, len(cfg.PayloadKeys))
	for _, k := range cfg.PayloadKeys {
		b64 := k.Key
		if k.KeyFile != "" {
			raw, err := os.ReadFile(k.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("payload key %q: %w", k.ID, err)
			}
			b64 = string(raw)
		}
		key, err := payloadcodec.ParseKey(k.ID, b64)
		if err != nil {
			return nil, fmt.Errorf("%w (make a key with `%s`)", err, makePayloadKey)
		}
		if len(key.Secret) != payloadcodec.KeySize {
			return nil, fmt.Errorf("payload key %q is %d bytes, want %d (make a key with `%s`)", k.ID, len(key.Secret), payloadcodec.KeySize, makePayloadKey)
		}
		keys = append(keys, key)
	}
	return payloadcodec.New(cfg.PayloadKeyID, keys)
}

// dataConverter is the converter of every Temporal client the engine
// makes: the default one, through codec when there is one.
func dataConverter(codec *payloadcodec.Codec) converter.DataConverter {
	if codec == nil {
		return converter.GetDefaultDataConverter()
	}
	return codec.DataConverter()
}

// devPayloadKey gives recovery dev a payload key of its own, kept in the
// data directory, when the configuration names none.
func devPayloadKey(cfg *config.Config, dataDir string) error {
	if len(cfg.PayloadKeys) > 0 {
		return nil
	}
	secret, err := devSecret(dataDir, "payload-key", payloadcodec.KeySize)
	if err != nil {
		return err
	}
	raw, err := hex.DecodeString(secret)
	if err != nil {
		return fmt.Errorf("payload-key: %w", err)
	}
	cfg.PayloadKeys = []config.PayloadKey{{ID: "dev", Key: base64.StdEncoding.EncodeToString(raw)}}
	cfg.PayloadKeyID = "dev"
	return nil
}

// withCodecEndpoint serves the codec endpoint beside the API h, to staff
// bearer tokens only: it decrypts user ids, addresses and contacts.
// uiOrigin is the Web UI's origin, answered for CORS.
// Failed sign-ins count in signIns, the API's throttle: a client the API
// refuses for a while is refused here too.
func withCodecEndpoint(h http.Handler, staff *api.StaffTokens, signIns *api.SignInThrottle, codec *payloadcodec.Codec, uiOrigin string) http.Handler {
	if codec == nil {
		return h
	}
	isStaff := func(r *http.Request) bool {
		client := signIns.Client(r)
		if signIns.Blocked(client, time.Now()) > 0 {
			return false
		}
		_, ok := staff.FromRequest(r)
		if !ok {
			signIns.Failed(client, time.Now())
		}
		return ok
	}
	mux := http.NewServeMux()
	mux.Handle(codecPath+"/", http.StripPrefix(codecPath, codec.Handler(isStaff, uiOrigin)))
	mux.Handle("/", h)
	return mux
}

// serveDevCodec serves the codec endpoint to recovery dev's Web UI on a
// loopback listener of its own, without a token: the UI has none to send,
// and what reaches this listener reaches the UI, which shows the decoded
// payloads anyway. CORS admits the UI's page only, so another site open in
// the same browser cannot read an answer. It returns the endpoint's URL.
func serveDevCodec(ctx context.Context, codec *payloadcodec.Codec, uiPort int) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("codec endpoint: %w", err)
	}
	port := strconv.Itoa(uiPort)
	h := codec.Handler(func(*http.Request) bool { return true }, "http://127.0.0.1:"+port, "http://localhost:"+port)
	go serveHTTP(ctx, l, h)
	return "http://" + l.Addr().String(), nil
}
