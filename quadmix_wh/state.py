"""Stored fingerprints of built nodes, in a table inside the warehouse itself, so a state row is
written in the same transaction as the table it describes."""
from __future__ import annotations

STATE_TABLE = "_qwh_state"


def ensure_state_table(con) -> None:
    con.execute(f"""CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
        node VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, materialized VARCHAR,
        built_at TIMESTAMP DEFAULT current_timestamp)""")


def read_state(con) -> dict[str, str]:
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                         "AND table_name = ?", [STATE_TABLE]).fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute(f"SELECT node, fingerprint FROM {STATE_TABLE}").fetchall())


def write_state(con, unique_id: str, fingerprint: str, materialized: str) -> None:
    """Record a node's fingerprint; call inside the transaction that publishes the node."""
    con.execute(f"INSERT OR REPLACE INTO {STATE_TABLE} (node, fingerprint, materialized) VALUES (?, ?, ?)",
                [unique_id, fingerprint, materialized])


def forget_state(con, unique_id: str) -> None:
    con.execute(f"DELETE FROM {STATE_TABLE} WHERE node = ?", [unique_id])
