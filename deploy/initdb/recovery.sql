-- The engine's own database, beside Temporal's: the address book, the
-- ledger and the recovery transactions, shared by the worker and the API.
CREATE DATABASE recovery;
