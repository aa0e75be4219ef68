// Package payloadcodec keeps the personal data of a case (user id, address,
// memo, contact) out of Temporal's history in plain text: it encrypts every
// payload the engine sends to Temporal with AES-256-GCM and decrypts what it
// reads back.
//
// Each encrypted payload names the key that sealed it in its metadata, so
// keys rotate: the codec encrypts with the current key and decrypts with any
// key it is given. Payloads written before encryption was turned on carry no
// encrypted encoding and pass through decoding unchanged, which keeps old
// cases and recorded histories readable.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const (
	// Encoding is the metadata encoding of a payload this codec sealed.
	Encoding = "binary/encrypted"
	// MetadataKeyID names, in an encrypted payload's metadata, the key
	// that sealed it.
	MetadataKeyID = "encryption-key-id"
	// KeySize is the length of a key in bytes (AES-256).
	KeySize = 32
)

// ErrUnknownKey is returned when a payload was sealed with a key the codec
// was not given.
var ErrUnknownKey = errors.New("payload encrypted with a key that is not configured")

// Key is one payload key: its id, recorded in every payload it seals, and
// its 32 secret bytes.
type Key struct {
	ID     string
	Secret []byte
}

// ParseKey reads a key's secret written in standard base64.
func ParseKey(id, b64 string) (Key, error) {
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return Key{}, fmt.Errorf("payload key %q: not base64: %w", id, err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// Codec encrypts payloads with its current key and decrypts them with any of
// its keys. The ciphers are made once, so sealing a payload costs one
// AES-GCM pass and a random nonce.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that encrypts with the key whose id is current and
// decrypts with any of keys.
func New(current string, keys []Key) (*Codec, error) {
	c := &Codec{current: current, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if k.ID == "" {
			return nil, errors.New("payload key without an id")
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("payload key %q is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("payload key %q listed twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("payload key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payload key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	if _, ok := c.aeads[current]; !ok {
		return nil, fmt.Errorf("current payload key %q is not among the payload keys", current)
	}
	return c, nil
}

// DataConverter is Temporal's default data converter with every payload
// passing through c.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode seals each payload, metadata and data together, under the current
// key. The key id is bound to the ciphertext as additional data, so a
// payload relabelled with another key id fails to open.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		sealed := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(sealed); err != nil {
			return nil, fmt.Errorf("encode payload: nonce: %w", err)
		}
		sealed = aead.Seal(sealed, sealed, plain, []byte(c.current))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.current),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode opens each encrypted payload with the key it names. A payload that
// is not encrypted (written before encryption was turned on) is returned as
// it is.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("%w: key id %q", ErrUnknownKey, id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, fmt.Errorf("decode payload under key %q: too short", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decode payload under key %q: %w", id, err)
		}
		var dp commonpb.Payload
		if err := dp.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("decode payload under key %q: %w", id, err)
		}
		out[i] = &dp
	}
	return out, nil
}

// Handler serves Temporal's remote codec protocol (POST /encode and
// /decode, as the Web UI and tctl call them) for whoever authorize lets in.
// origins are the Web UI's origins, answered for CORS so that a browser on
// that page may call the endpoint with its credentials; no other origin is.
func (c *Codec) Handler(authorize func(*http.Request) bool, origins ...string) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(origins, origin) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !authorize(r) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "staff authentication required", http.StatusUnauthorized)
			return
		}
		codec.ServeHTTP(w, r)
	})
}
