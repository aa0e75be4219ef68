package addressbook

// postgresSchema is sqliteSchema in PostgreSQL's dialect. Every text column
// is COLLATE "C" because a database's default collation follows its locale
// (in en_US "B" sorts after "a" and punctuation is ignored), while the lists
// this package returns must come out in the byte order SQLite gives.
const postgresSchema = `
CREATE TABLE IF NOT EXISTS addresses (
	network     TEXT COLLATE "C" NOT NULL,
	address     TEXT COLLATE "C" NOT NULL,
	memo        TEXT COLLATE "C" NOT NULL DEFAULT '',
	user_id     TEXT COLLATE "C" NOT NULL,
	status      TEXT COLLATE "C" NOT NULL,
	pubkey_hash TEXT COLLATE "C" NOT NULL DEFAULT '',
	updated_at  TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (network, address, memo)
);
CREATE INDEX IF NOT EXISTS addresses_pkh ON addresses (pubkey_hash) WHERE pubkey_hash <> '';
CREATE INDEX IF NOT EXISTS addresses_user ON addresses (user_id);
CREATE TABLE IF NOT EXISTS credits (
	network     TEXT COLLATE "C" NOT NULL,
	tx_hash     TEXT COLLATE "C" NOT NULL,
	idx         TEXT COLLATE "C" NOT NULL,
	user_id     TEXT COLLATE "C" NOT NULL,
	amount      TEXT COLLATE "C" NOT NULL,
	credited_at TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (network, tx_hash, idx)
);
CREATE TABLE IF NOT EXISTS address_changes (
	seq          BIGSERIAL PRIMARY KEY,
	at           TEXT COLLATE "C" NOT NULL,
	person       TEXT COLLATE "C" NOT NULL,
	network      TEXT COLLATE "C" NOT NULL,
	address      TEXT COLLATE "C" NOT NULL,
	memo         TEXT COLLATE "C" NOT NULL,
	before_user  TEXT COLLATE "C" NOT NULL,
	before_state TEXT COLLATE "C" NOT NULL,
	after_user   TEXT COLLATE "C" NOT NULL,
	after_state  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS address_changes_address ON address_changes (address, seq);`

// schemaLock is the advisory lock under which the schema is created: the
// worker and the API start together, and two concurrent CREATE TABLE IF NOT
// EXISTS of one table can fail in PostgreSQL. The key spells "addrbook".
const schemaLock = 0x61646472626f6f6b
