package utxo

import (
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/misdeposit/recovery"
)

// ParseTxHash reads a transaction id as UTXO nodes and explorers write it: 64
// hex characters, either case, surrounding spaces ignored.
//
// A "0x" prefix is refused rather than stripped: no UTXO wallet or explorer
// writes one, so a 0x hash is an EVM hash and looking it up here would only
// turn a wrong-family mistake into a misleading "not found".
func ParseTxHash(s string) (*chainhash.Hash, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		return nil, recovery.FieldError("tx_hash", "a UTXO transaction hash has no 0x prefix")
	case len(s) != chainhash.MaxHashStringSize:
		return nil, recovery.FieldError("tx_hash", "a UTXO transaction hash is %d hex characters, got %d", chainhash.MaxHashStringSize, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return nil, recovery.FieldError("tx_hash", "a UTXO transaction hash is hex only")
		}
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return nil, recovery.FieldError("tx_hash", "not a transaction hash: %v", err)
	}
	return h, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
