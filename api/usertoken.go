package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// UserTokens issues and checks the tokens users authenticate with on the
// appeal API. The exchange issues them to its logged-in users (with the
// shared secret, or through recovery dev's dev endpoint); the engine keeps
// no list of them. A token is
//
//	u1.<user id, base64url>.<expiry, unix seconds>.<HMAC-SHA256, base64url>
//
// and names one user until it expires.
type UserTokens struct {
	secret []byte
	now    func() time.Time
}

// MinUserTokenSecret is the shortest secret NewUserTokens accepts.
const MinUserTokenSecret = 32

// NewUserTokens returns a signer with secret; now nil means time.Now.
func NewUserTokens(secret []byte, now func() time.Time) (*UserTokens, error) {
	if len(secret) < MinUserTokenSecret {
		return nil, fmt.Errorf("the user token secret must be at least %d bytes", MinUserTokenSecret)
	}
	if now == nil {
		now = time.Now
	}
	return &UserTokens{secret: append([]byte(nil), secret...), now: now}, nil
}

const userTokenPrefix = "u1"

// Issue returns a token for userID valid for ttl.
func (u *UserTokens) Issue(userID string, ttl time.Duration) string {
	body := userTokenPrefix + "." + base64.RawURLEncoding.EncodeToString([]byte(userID)) + "." + strconv.FormatInt(u.now().Add(ttl).Unix(), 10)
	return body + "." + u.mac(body)
}

func (u *UserTokens) mac(body string) string {
	m := hmac.New(sha256.New, u.secret)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Errors of Check; their messages are safe to show.
var (
	errTokenMalformed = errors.New("the user token is not one the engine issued")
	errTokenExpired   = errors.New("the user token has expired; sign in again")
)

// Check returns the user a token names, or why it is refused.
func (u *UserTokens) Check(token string) (string, error) {
	if len(token) > 600 {
		return "", errTokenMalformed
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != userTokenPrefix {
		return "", errTokenMalformed
	}
	body := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(u.mac(body)), []byte(parts[3])) {
		return "", errTokenMalformed
	}
	user, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !userIDPattern.Match(user) {
		return "", errTokenMalformed
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", errTokenMalformed
	}
	if !u.now().Before(time.Unix(exp, 0)) {
		return "", errTokenExpired
	}
	return string(user), nil
}
