"""Build the `sql_analyst` example's shop database: products, customers and orders.

The rows are written out below (orders follow a fixed formula), so every build is identical.
`python examples/data/build_shop_db.py shop.db` writes a copy to look at; the example itself
calls `ensure_shop_db()`, which builds one per schema version in the temp folder.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "build_shop_db", "ensure_shop_db"]

SCHEMA_VERSION = 1
"""Bump when the tables or rows change, so stale cached copies are not used."""

SCHEMA = """
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    price_usd REAL NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    city TEXT NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    ordered_on TEXT NOT NULL  -- ISO date
);
"""

PRODUCTS = [
    (1, "Espresso Beans", "coffee", 14.50),
    (2, "Decaf Blend", "coffee", 12.00),
    (3, "Pour-Over Kettle", "equipment", 39.90),
    (4, "Burr Grinder", "equipment", 89.00),
    (5, "Ceramic Mug", "tableware", 9.50),
    (6, "Travel Tumbler", "tableware", 24.00),
    (7, "Green Tea Sencha", "tea", 8.75),
    (8, "Earl Grey", "tea", 7.25),
    (9, "Chai Spice Mix", "tea", 10.00),
    (10, "Paper Filters", "supplies", 4.20),
    (11, "Milk Frother", "equipment", 29.00),
    (12, "Cold Brew Jar", "equipment", 19.90),
]

CUSTOMERS = [
    (1, "Ada Lovelace", "ada@example.com", "London"),
    (2, "Alan Turing", "alan@example.com", "Manchester"),
    (3, "Grace Hopper", "grace@example.com", "New York"),
    (4, "Katherine Johnson", "katherine@example.com", "Hampton"),
    (5, "Linus Torvalds", "linus@example.com", "Portland"),
    (6, "Margaret Hamilton", "margaret@example.com", "Boston"),
    (7, "Tim Berners-Lee", "tim@example.com", "Geneva"),
    (8, "Barbara Liskov", "barbara@example.com", "Boston"),
    (9, "Donald Knuth", "donald@example.com", "Stanford"),
    (10, "Hedy Lamarr", "hedy@example.com", "Vienna"),
]

ORDER_COUNT = 48
FIRST_DAY = date(2024, 1, 3)


def _orders() -> list[tuple[int, int, int, int, str]]:
    # A fixed formula instead of a random generator: identical rows on every Python version.
    # Espresso Beans gets an extra order every fourth time, so "best seller" has one answer.
    rows = []
    for n in range(1, ORDER_COUNT + 1):
        product = 1 if n % 4 == 0 else (n * 5) % len(PRODUCTS) + 1
        customer = (n * 7) % len(CUSTOMERS) + 1
        quantity = n % 3 + 1
        day = FIRST_DAY + timedelta(days=n * 5 % 180)
        rows.append((n, customer, product, quantity, day.isoformat()))
    return rows


def build_shop_db(path: str | Path) -> None:
    """Write the database to `path` (which must not exist yet)."""
    # closing() closes the connection; `with connection` commits the inserts.
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(SCHEMA)
        connection.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", PRODUCTS)
        connection.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
        connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", _orders())


def ensure_shop_db() -> Path:
    """The path of a built database, `<tempdir>/agentkit-examples/shop-<version>.db`.

    Built on first use; safe when several processes do it at once, because each builds under
    its own temporary name and `os.replace` swaps the finished file in atomically.
    """
    target = Path(tempfile.gettempdir()) / "agentkit-examples" / f"shop-{SCHEMA_VERSION}.db"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")
    try:
        build_shop_db(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python build_shop_db.py OUTPUT.db")
    build_shop_db(sys.argv[1])
    print(f"wrote {sys.argv[1]}")
