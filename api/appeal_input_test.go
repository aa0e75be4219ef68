package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/workflows"
)

func registry(t testing.TB) *chains.Registry {
	t.Helper()
	reg, err := chains.NewRegistry(chains.DefaultNetworks())
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

const (
	goodHash = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
	goodAddr = "0x52908400098527886E0F7030069857D2E4169EE7"
)

// testUsers signs user tokens with a fixed secret.
func testUsers(t testing.TB, now func() time.Time) *UserTokens {
	t.Helper()
	u, err := NewUserTokens([]byte("0123456789abcdef0123456789abcdef"), now)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAppealValidation(t *testing.T) {
	users := testUsers(t, nil)
	srv := NewServer(Deps{Registry: registry(t), UserTokens: users})
	token := users.Issue("u1", time.Hour)
	cases := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"empty body", ``, 400, "invalid", ""},
		{"not json", `{"tx_hash":`, 400, "invalid", ""},
		{"two objects", `{"tx_hash":"a"} {}`, 400, "invalid", ""},
		{"trailing brace", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1"}}`, 400, "invalid", ""},
		{"trailing bracket", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1"}]`, 400, "invalid", ""},
		{"unknown field", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","colour":"red"}`, 400, "invalid", "colour"},
		{"missing hash", `{"to_address":"` + goodAddr + `","user_id":"u1"}`, 400, "invalid", "tx_hash"},
		{"short hash", `{"tx_hash":"0x1234","to_address":"` + goodAddr + `","user_id":"u1"}`, 400, "invalid", "tx_hash"},
		{"non-hex hash", `{"tx_hash":"` + strings.Repeat("z", 64) + `","to_address":"` + goodAddr + `","user_id":"u1"}`, 400, "invalid", "tx_hash"},
		{"unknown network", `{"network":"dogecoin-classic","tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1"}`, 400, "invalid", "network"},
		{"evm address on eth", `{"network":"eth","tx_hash":"` + goodHash + `","to_address":"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq","user_id":"u1"}`, 400, "invalid", "to_address"},
		{"missing address", `{"tx_hash":"` + goodHash + `","user_id":"u1"}`, 400, "invalid", "to_address"},
		{"missing user", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `"}`, 400, "invalid", "user_id"},
		{"user with spaces", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"a b"}`, 400, "invalid", "user_id"},
		{"negative amount", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","amount":"-1"}`, 400, "invalid", "amount"},
		{"zero amount", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","amount":"0.000"}`, 400, "invalid", "amount"},
		{"exponent amount", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","amount":"1e9"}`, 400, "invalid", "amount"},
		{"amount as number", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","amount":12.5}`, 400, "invalid", "amount"},
		{"urgent as string", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","urgent":"yes"}`, 400, "invalid", "urgent"},
		{"unsupported lang", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","lang":"xx"}`, 400, "invalid", "lang"},
		{"memo with control char", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","memo":"a\u0007b"}`, 400, "invalid", "memo"},
		{"overlong memo", `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1","memo":"` + strings.Repeat("m", 129) + `"}`, 400, "invalid", "memo"},
		{"huge body", `{"contact":"` + strings.Repeat("x", maxBody) + `"}`, 413, "too_large", ""},
		{"memo against the X-address's tag", `{"network":"xrp","tx_hash":"` + goodHash + `","to_address":"XV51P7h3aM7GwT18dURcjAdx6NufeYeqsMjj5BFwy6JFbKq","memo":"124","user_id":"u1"}`, 400, "invalid", "memo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/appeals", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+token)
			srv.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body is not JSON: %v: %s", err, rec.Body)
			}
			if body.Error.Code != tc.code || body.Error.Field != tc.field || body.Error.Message == "" {
				t.Fatalf("error %+v, want code %q field %q and a message", body.Error, tc.code, tc.field)
			}
		})
	}
}

func TestValidAppealIsNormalised(t *testing.T) {
	req := appealRequest{Network: " ETH ", TxHash: strings.ToUpper(goodHash[2:]), ToAddress: " " + goodAddr + " ", UserID: "u-1", Asset: "usdt", Amount: "12.50", Lang: "FR"}
	a, err := validateAppeal(req, registry(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.Network != "eth" || a.hash != goodHash[2:] || a.ToAddress != goodAddr || a.Asset != "USDT" || a.Lang != "fr" {
		t.Fatalf("not normalised: %+v hash %s", a.appealRequest, a.hash)
	}
}

func TestUnknownRouteAndStaffAuth(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t), StaffTokens: map[string]Staff{"0123456789abcdef0123": {Person: "ann"}}})
	for _, tc := range []struct {
		path, auth string
		status     int
	}{
		{"/v1/nope", "", 404},
		{"/v1/cases", "", 401},
		{"/v1/cases", "Bearer wrong-token-wrong-token", 401},
		{"/v1/cases?status=bad%27value", "Bearer 0123456789abcdef0123", 400},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.path, rec.Code, tc.status, rec.Body)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", tc.path, got)
		}
	}
}

func TestNetworksListsAll32WithoutNodeURLs(t *testing.T) {
	nets := chains.DefaultNetworks()
	nets[0].RPC = []string{"https://user:secret-key@node.example/v1"}
	reg, err := chains.NewRegistry(nets)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Deps{Registry: reg})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/networks", nil))
	if strings.Contains(rec.Body.String(), "secret-key") || strings.Contains(rec.Body.String(), "node.example") {
		t.Error("a node URL is exposed")
	}
	var body networkList
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	tiers := map[chains.Tier]int{}
	for _, n := range body.Networks {
		tiers[n.Tier]++
	}
	if len(body.Networks) != 32 || tiers[chains.Direct] != 16 || tiers[chains.Conditional] != 16 {
		t.Fatalf("got %d networks, tiers %v; want 32 = 16 direct + 16 conditional", len(body.Networks), tiers)
	}
}

func TestEveryTimelineCodeIsTranslated(t *testing.T) {
	for code := range catalog["en"] {
		if strings.Contains(code, "#") {
			continue // a plural form: TestCatalogHasEveryPluralFormOfItsLanguage
		}
		for _, lang := range languages {
			if _, ok := catalog[lang][code]; !ok {
				t.Errorf("%s has no %s text", code, lang)
			}
		}
	}
	if got := message("hu", "confirming", map[string]string{"confirmations": "1", "required": "3"}); got != "Megerősítésre vár: 1 / 3." {
		t.Errorf("hu confirming = %q", got)
	}
	if got := message("fr", "no-such-code", nil); got != "no-such-code" {
		t.Errorf("unknown code rendered as %q", got)
	}
}

func TestLanguageNegotiation(t *testing.T) {
	for _, tc := range []struct{ query, header, want string }{
		{"", "", "en"},
		{"", "zh-CN,zh;q=0.9,en;q=0.8", "zh"},
		{"", "sr-RS, hu;q=0.5", "hu"},
		{"fr", "zh", "fr"},
		{"xx", "", "en"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/v1/appeals/x?lang="+tc.query, nil)
		r.Header.Set("Accept-Language", tc.header)
		if got := pickLang(r); got != tc.want {
			t.Errorf("lang=%q Accept-Language=%q: got %s, want %s", tc.query, tc.header, got, tc.want)
		}
	}
}

// An appeal is shown in the language it was filed in, unless the request
// asks for another with ?lang=; the browser's Accept-Language comes after
// the user's own choice.
func TestAppealIsShownInTheLanguageItWasFiledIn(t *testing.T) {
	for _, tc := range []struct{ filed, query, header, want string }{
		{"fr", "", "", "fr"},
		{"fr", "", "de", "fr"},
		{"fr", "ja", "de", "ja"},
		{"", "", "de", "de"},
		{"", "", "", "en"},
		{"xx", "", "de", "de"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/v1/appeals/x?lang="+tc.query, nil)
		r.Header.Set("Accept-Language", tc.header)
		if got := appealLang(r, &workflows.AppealState{Lang: tc.filed}); got != tc.want {
			t.Errorf("filed %q, lang=%q, Accept-Language=%q: %s, want %s", tc.filed, tc.query, tc.header, got, tc.want)
		}
	}
}

func FuzzDecodeAppeal(f *testing.F) {
	f.Add(`{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1"}`)
	f.Add(`{"network":"btc","tx_hash":"` + goodHash[2:] + `","to_address":"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq","user_id":"u1","amount":"0.1"}`)
	f.Add(`{"amount":"1.` + strings.Repeat("9", 40) + `"}`)
	f.Add(`[]`)
	reg := registry(f)
	f.Fuzz(func(t *testing.T, body string) {
		a, err := decodeAppeal(strings.NewReader(body), reg)
		if err != nil {
			code := recovery.ErrorCode(err)
			if code != recovery.EInvalid && code != recovery.ETooLarge {
				t.Fatalf("error with code %q: %v", code, err)
			}
			return
		}
		// Whatever passed must be usable as is: a 64-digit hash, a user id
		// within its pattern and an address.
		if len(a.hash) != 64 || !userIDPattern.MatchString(a.UserID) || a.ToAddress == "" {
			t.Fatalf("accepted an unusable appeal: %+v", a)
		}
	})
}

func TestQueueFilters(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f, err := parseQueueFilter(url.Values{"status": {"parked"}, "amount_band": {"1k_10k"}, "overdue": {"true"}, "older_than": {"36h"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "WorkflowType = 'AppealWorkflow' AND RecoveryStatus = 'parked' AND RecoveryAmountBand = '1k_10k' AND ExecutionStatus = 'Running' AND RecoveryDueAt < '2026-11-30T12:00:00Z' AND StartTime < '2026-11-29T00:00:00Z'"
	if got := casesQuery(f, now); got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
	for field, bad := range map[string]url.Values{
		"amount_band": {"amount_band": {"huge"}},
		"overdue":     {"overdue": {"yes"}},
		"older_than":  {"older_than": {"-1h"}},
		"network":     {"network": {"eth' OR 1=1"}},
	} {
		var e *recovery.Error
		if _, err := parseQueueFilter(bad); !errors.As(err, &e) || e.Field != field {
			t.Errorf("%v: %v, want a refusal naming %s", bad, err, field)
		}
	}
}

// An X-address copied from a wallet is the classic address and the
// destination tag it packs, so that the appeal finds the payment on the
// ledger (which knows only classic addresses) and its tag.
func TestXAddressIsReadAsAddressAndTag(t *testing.T) {
	const x, classic = "XV51P7h3aM7GwT18dURcjAdx6NufeYeqsMjj5BFwy6JFbKq", "rPWszQdxRJ8QrW3aTceUmBhXVFuxQZYUhk"
	for _, c := range []struct {
		network, memo string
		wantAddr      string
		wantMemo      string
	}{
		{"xrp", "", classic, "123"},
		{"xrp", " 123 ", classic, "123"},
		{"", "", classic, "123"}, // no network named: an X-address is an XRP Ledger address
		{"xlm", "", x, ""},       // another ledger's address is left to its own checks
	} {
		req := appealRequest{Network: c.network, TxHash: goodHash, ToAddress: x, Memo: c.memo, UserID: "u1"}
		a, err := validateAppeal(req, registry(t))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if a.ToAddress != c.wantAddr || a.Memo != c.wantMemo {
			t.Errorf("%+v: address %s memo %q, want %s %q", c, a.ToAddress, a.Memo, c.wantAddr, c.wantMemo)
		}
	}
	// Without a tag, the memo the user gives stands.
	req := appealRequest{Network: "xrp", TxHash: goodHash, ToAddress: "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ", Memo: "77", UserID: "u1"}
	if a, err := validateAppeal(req, registry(t)); err != nil || a.ToAddress != "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59" || a.Memo != "77" {
		t.Errorf("X-address without a tag: %+v %v", a, err)
	}
}
