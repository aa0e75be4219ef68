package atom_test

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/misdeposit/recovery/chains/atom"
)

func TestAddressVectors(t *testing.T) {
	// cosmjs's address test: a compressed key and its cosmos1 address.
	pub, _ := base64.StdEncoding.DecodeString("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP")
	if got := atom.AddressOfPublicKey(pub); got != "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r" {
		t.Errorf("cosmjs key derives %s", got)
	}
	// Terra's vector (same coin type, same key hash, another hrp).
	terra, _ := hex.DecodeString("022a8752ce8480844725834ddc8b62ab42b05ff4f220336ea41c15a8ad0d155a0a")
	if got, _ := atom.EncodeAddress("terra", atom.AccountHash(terra)); got != "terra1dz5atdvdmfugpgum0mj0flq3asruycfyzh2waa" {
		t.Errorf("terra key derives %s", got)
	}
	hrp, id, err := atom.DecodeAddress("terra1dz5atdvdmfugpgum0mj0flq3asruycfyzh2waa")
	if err != nil || hrp != "terra" || hex.EncodeToString(id) != "68a9d5b58dda7880a39b7ee4f4fc11ec07c26124" {
		t.Errorf("terra address: %s %x %v", hrp, id, err)
	}
	for _, a := range []string{
		"cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r",
		// x/distribution's module account.
		"cosmos1jv65s3grqf6v6jl3dp4t6c9t9rk99cd88lyufl",
	} {
		if !atom.ValidAddress(a) {
			t.Errorf("%s refused", a)
		}
	}
	for _, bad := range []string{
		"cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2s",        // checksum
		"COSMOS1H806C7KHNVMJLYWDRKDGK2VRAYY2MMVF9RXK2R",        // upper case: valid bech32, not how the Hub writes it
		"cosmos1H806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r",        // mixed case
		"osmo1h806c7khnvmjlywdrkdgk2vrayy2mmvfdc4xu3",          // another chain
		"cosmosvaloper1sjllsnramtg3ewxqwwrwjxfgc4n4ef9u2lcnj0", // a validator, not an account
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",           // Bitcoin's segwit
		"cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",      // not a checksum
		"",
		strings.Repeat("cosmos1", 20),
	} {
		if atom.ValidAddress(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
