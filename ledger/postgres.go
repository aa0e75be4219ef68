package ledger

// postgresSchema is sqliteSchema in PostgreSQL's dialect. Every text column
// is COLLATE "C": a database's default collation follows its locale, while
// the time ranges and group orders of this package rely on byte order, as
// SQLite gives.
const postgresSchema = `
CREATE TABLE IF NOT EXISTS ledger_entries (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	case_id   TEXT COLLATE "C" NOT NULL,
	step      TEXT COLLATE "C" NOT NULL,
	booked_at TEXT COLLATE "C" NOT NULL,
	filed_at  TEXT COLLATE "C" NOT NULL,
	network   TEXT COLLATE "C" NOT NULL,
	category  TEXT COLLATE "C" NOT NULL,
	user_id   TEXT COLLATE "C" NOT NULL,
	content   TEXT COLLATE "C" NOT NULL,
	UNIQUE (case_id, step)
);
CREATE INDEX IF NOT EXISTS ledger_entries_booked ON ledger_entries (booked_at);
CREATE TABLE IF NOT EXISTS ledger_lines (
	entry_id BIGINT NOT NULL REFERENCES ledger_entries (id),
	line     INTEGER NOT NULL,
	account  TEXT COLLATE "C" NOT NULL,
	asset    TEXT COLLATE "C" NOT NULL,
	debit    TEXT COLLATE "C" NOT NULL,
	credit   TEXT COLLATE "C" NOT NULL,
	usd      TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (entry_id, line)
);
CREATE TABLE IF NOT EXISTS ledger_deposits (
	deposit_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	case_id    TEXT COLLATE "C" NOT NULL,
	step       TEXT COLLATE "C" NOT NULL,
	FOREIGN KEY (case_id, step) REFERENCES ledger_entries (case_id, step)
);`

// schemaLock is the advisory lock under which the schema is created: the
// worker and the API start together, and two concurrent CREATE TABLE IF NOT
// EXISTS of one table can fail in PostgreSQL. The key spells "ledger".
const schemaLock = 0x6c6564676572
