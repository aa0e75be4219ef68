package addressbook

import (
	"io"
)

// creditColumns are the columns ReadCreditsCSV understands, all required.
var creditColumns = []string{"network", "tx_hash", "index", "user_id", "amount", "credited_at"}

// maxProblems is how many bad lines a refusal lists: enough to fix a
// file's pattern of mistakes, few enough to read.
const maxProblems = 20

// ReadCreditsCSV parses the exchange's export of credited deposits, with a
// header row naming the columns network, tx_hash, index, user_id, amount
// and credited_at (an RFC 3339 time or a date) in any order. As ReadCSV,
// it reports every problem with its line and returns nothing unless every
// row is good.
func ReadCreditsCSV(r io.Reader) ([]Credit, error) {
	return readRows(r, creditColumns, creditColumns, creditRow)
}

// creditRow builds and validates the credit of one row.
func creditRow(get func(column string) string) (Credit, error) {
	at, err := ParseCreditTime(get("credited_at"))
	if err != nil {
		return Credit{}, err
	}
	c := Credit{Network: get("network"), TxHash: get("tx_hash"), Index: get("index"),
		UserID: get("user_id"), Amount: get("amount"), CreditedAt: at}
	return c, c.Validate()
}
