package fees

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/misdeposit/recovery"
)

// Price is the USD value of one whole unit of an asset (one ETH, not one
// wei), with where it came from and when, so a quote can show both.
type Price struct {
	Value  decimal.Decimal `json:"value" yaml:"value"`
	Source string          `json:"source" yaml:"source"`
	At     time.Time       `json:"at" yaml:"at"`
}

// Prices answers the USD price of an asset on a network. Asset is the
// native asset's symbol ("ETH") or a token's symbol or contract address.
//
// An asset without a price gives an error with code recovery.ENotFound, so
// that policy can park a case with an unpriced token instead of failing it.
type Prices interface {
	USD(ctx context.Context, network, asset string) (Price, error)
}

// Static is a Prices from a fixed table: a price file or a map. It is safe
// for concurrent use.
type Static struct {
	// byKey maps "asset" or "network/asset", lower-cased, to a price.
	byKey map[string]Price
}

var _ Prices = (*Static)(nil)

// StaticPrices returns a Prices answering from prices. A key is an asset
// ("ETH", "USDT", a token contract) valid on every network, or
// "network/asset" for one network only, which wins over the plain asset.
// Keys match case-insensitively.
func StaticPrices(prices map[string]Price) *Static {
	s := &Static{byKey: make(map[string]Price, len(prices))}
	for k, p := range prices {
		s.byKey[strings.ToLower(k)] = p
	}
	return s
}

// USD implements Prices.
func (s *Static) USD(_ context.Context, network, asset string) (Price, error) {
	a := strings.ToLower(strings.TrimSpace(asset))
	if a != "" {
		if p, ok := s.byKey[strings.ToLower(network)+"/"+a]; ok {
			return p, nil
		}
		if p, ok := s.byKey[a]; ok {
			return p, nil
		}
	}
	return Price{}, &recovery.Error{Code: recovery.ENotFound, Message: fmt.Sprintf("no price for %s on %s", asset, network), Field: "asset"}
}

// PriceFile is the format of a static price file (YAML or JSON):
//
//	source: static dev prices
//	at: 2026-11-23T00:00:00Z
//	assets: {ETH: "3000", BTC: "90000"}
//	networks:
//	  eth: {"0xdac17f958d2ee523a2206206994597c13d831ec7": "1"}
//
// Assets apply on every network; networks hold prices valid on one network
// only (token contracts), which win over assets.
type PriceFile struct {
	Source   string                                `json:"source" yaml:"source"`
	At       time.Time                             `json:"at" yaml:"at"`
	Assets   map[string]decimal.Decimal            `json:"assets" yaml:"assets"`
	Networks map[string]map[string]decimal.Decimal `json:"networks,omitempty" yaml:"networks,omitempty"`
}

// maxPriceFile bounds what ParsePrices reads.
const maxPriceFile = 4 << 20

// maxPrice bounds one price: nothing is worth more than this per unit.
var maxPrice = decimal.New(1, 12)

// ParsePrices reads a price file. JSON is recognised by its first
// non-blank character; anything else is read as YAML. Unknown keys are
// refused, and so is a price that is not a positive number.
func ParsePrices(data []byte) (*Static, error) {
	if len(data) > maxPriceFile {
		return nil, &recovery.Error{Code: recovery.ETooLarge, Message: fmt.Sprintf("price file is larger than %d bytes", maxPriceFile)}
	}
	var f PriceFile
	if isJSON(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, recovery.Errorf(recovery.EInvalid, "price file: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, recovery.Errorf(recovery.EInvalid, "price file: unexpected data after the JSON object")
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := decodeYAML(dec, &f); err != nil {
			return nil, recovery.Errorf(recovery.EInvalid, "price file: %v", err)
		}
	}
	return f.Prices()
}

// decodeYAML decodes one document. yaml.v3 has panicked on hostile input
// before; a price file is operator input, so turn a panic into an error.
func decodeYAML(dec *yaml.Decoder, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable YAML: %v", r)
		}
	}()
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty document")
		}
		return err
	}
	return nil
}

func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// Prices validates the file and returns its table.
func (f PriceFile) Prices() (*Static, error) {
	var errs []error
	source := strings.TrimSpace(f.Source)
	if source == "" {
		errs = append(errs, recovery.FieldError("source", "is required: say where the prices come from"))
	}
	m := map[string]Price{}
	check := func(field, key, asset string, v decimal.Decimal) {
		switch {
		case strings.TrimSpace(asset) == "" || strings.Contains(asset, "/"):
			errs = append(errs, recovery.FieldError(field, "is not a usable asset name"))
		case !v.IsPositive():
			errs = append(errs, recovery.FieldError(field, "must be a positive price"))
		case v.GreaterThan(maxPrice) || places(v) > 18:
			errs = append(errs, recovery.FieldError(field, "must be at most %s with at most 18 decimal places", maxPrice))
		}
		m[key] = Price{Value: v, Source: source, At: f.At}
	}
	for asset, v := range f.Assets {
		check("assets."+asset, asset, asset, v)
	}
	for network, prices := range f.Networks {
		if strings.TrimSpace(network) == "" || strings.Contains(network, "/") {
			errs = append(errs, recovery.FieldError("networks."+network, "is not a usable network id"))
			continue
		}
		for asset, v := range prices {
			check("networks."+network+"."+asset, network+"/"+asset, asset, v)
		}
	}
	if len(m) == 0 && len(errs) == 0 {
		errs = append(errs, recovery.FieldError("assets", "no prices in the file"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return StaticPrices(m), nil
}

// LoadStaticPrices reads a price file; a .json file is read as JSON, any
// other as YAML (or JSON when it looks like JSON).
func LoadStaticPrices(path string) (*Static, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("price file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPriceFile+1))
	if err != nil {
		return nil, fmt.Errorf("price file %s: %w", path, err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") && !isJSON(data) {
		return nil, recovery.Errorf(recovery.EInvalid, "price file %s: a .json file must hold a JSON object", path)
	}
	s, err := ParsePrices(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

//go:embed prices.dev.yaml
var devPrices []byte

// DevPrices returns the static prices `recovery dev` uses: round numbers for
// the native assets of the default networks and a few tokens, under the
// source name "static dev prices (not market data)". They are not market
// prices and must not be used in production.
func DevPrices() *Static {
	s, err := ParsePrices(devPrices)
	if err != nil {
		panic("fees: embedded prices.dev.yaml: " + err.Error()) // a test keeps this from happening
	}
	return s
}
