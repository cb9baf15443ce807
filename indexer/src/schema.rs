//! The mirror's schema, in one place: column kinds, values, the [`Row`]
//! trait every table's row type implements through [`table!`], and the DDL
//! of both databases rendered from the same table descriptions
//! ([`TableDef::ddl`]), each database naming the column kinds its own way.
//!
//! A test creates the schema on both databases and checks every table here
//! against what the database reports, and writes and reads back a row of
//! every table.

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::error::IndexError;

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A signed 64-bit integer: `BIGINT` (Postgres), `INTEGER` (SQLite).
    Int,
    /// UTF-8 text.
    Text,
    /// An exact unsigned integer up to 2^128: `NUMERIC(39,0)` on Postgres,
    /// its decimal digits as `TEXT` on SQLite.
    Exact,
    /// A boolean.
    Bool,
    /// Raw bytes: `BYTEA` (Postgres), `BLOB` (SQLite).
    Bytes,
}

/// A column's kind and whether it may be null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColType {
    /// How values are stored.
    pub kind: Kind,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
}

/// A column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColType,
}

/// A secondary index of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// Its name, unique in the schema.
    pub name: &'static str,
    /// Its columns in order, as SQL (a column may be followed by `DESC`).
    pub columns: &'static str,
    /// For a partial index, the condition the rows it covers meet.
    pub filter: Option<&'static str>,
}

/// A table: its name and columns, the key columns first, and what else the
/// database keeps for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    /// The table's name.
    pub name: &'static str,
    /// Every column, in order; the first `keys` form the primary key.
    pub columns: &'static [Col],
    /// How many leading columns make the primary key.
    pub keys: usize,
    /// A condition every row meets (a `CHECK` constraint), as SQL.
    pub check: Option<&'static str>,
    /// Its secondary indexes.
    pub indexes: &'static [Index],
}

impl TableDef {
    /// The statements that create the table and its indexes, with
    /// `column_type` naming each column kind in the database's dialect.
    pub fn ddl(&self, column_type: impl Fn(Kind) -> &'static str) -> Vec<String> {
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let null = if c.ty.nullable { "" } else { " NOT NULL" };
                format!("\"{}\" {}{null}", c.name, column_type(c.ty.kind))
            })
            .collect();
        parts.push(format!("PRIMARY KEY ({})", quoted(self.key_columns())));
        if let Some(check) = self.check {
            parts.push(format!("CHECK ({check})"));
        }
        let mut out = vec![format!(
            "CREATE TABLE \"{}\" (\n    {}\n)",
            self.name,
            parts.join(",\n    ")
        )];
        for index in self.indexes {
            let filter = index
                .filter
                .map(|f| format!(" WHERE {f}"))
                .unwrap_or_default();
            out.push(format!(
                "CREATE INDEX \"{}\" ON \"{}\" ({}){filter}",
                index.name, self.name, index.columns
            ));
        }
        out
    }

    /// The primary-key columns.
    pub fn key_columns(&self) -> &'static [Col] {
        self.columns.get(..self.keys).unwrap_or_default()
    }

    /// The columns outside the primary key.
    pub fn value_columns(&self) -> &'static [Col] {
        self.columns.get(self.keys..).unwrap_or_default()
    }
}

/// Column names, quoted and comma-separated, for SQL.
pub fn quoted(cols: &[Col]) -> String {
    cols.iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One stored value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value {
    /// `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// An exact unsigned integer.
    Exact(#[serde(with = "decimal")] u128),
    /// A boolean.
    Bool(bool),
    /// Bytes.
    Bytes(#[serde(with = "hex_bytes")] Vec<u8>),
}

mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

/// A Rust type that maps onto one column.
pub trait Column: Sized {
    /// The column's type.
    const TYPE: ColType;
    /// The value to store.
    fn to_value(&self) -> Value;
    /// The Rust value of a stored one.
    fn from_value(value: Value) -> Option<Self>;
}

macro_rules! column {
    ($t:ty, $kind:ident, $variant:ident) => {
        impl Column for $t {
            const TYPE: ColType = ColType {
                kind: Kind::$kind,
                nullable: false,
            };
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }

        impl Column for Option<$t> {
            const TYPE: ColType = ColType {
                kind: Kind::$kind,
                nullable: true,
            };
            fn to_value(&self) -> Value {
                match self {
                    Some(v) => Value::$variant(v.clone()),
                    None => Value::Null,
                }
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$variant(v) => Some(Some(v)),
                    Value::Null => Some(None),
                    _ => None,
                }
            }
        }
    };
}

column!(i64, Int, Int);
column!(String, Text, Text);
column!(u128, Exact, Exact);
column!(bool, Bool, Bool);
column!(Vec<u8>, Bytes, Bytes);

/// A row type of one table.
pub trait Row: Clone + Debug + PartialEq + Send + Sync + 'static {
    /// The primary key's Rust type.
    type Key: Clone + Debug + Eq + Hash + Ord + Send + Sync;
    /// The table.
    const DEF: TableDef;
    /// This row's key.
    fn key(&self) -> Self::Key;
    /// A key's stored values.
    fn key_values(key: &Self::Key) -> Vec<Value>;
    /// Every column's stored value, in the table's order.
    fn values(&self) -> Vec<Value>;
    /// The row from every column's stored value.
    fn from_values(values: Vec<Value>) -> Result<Self, IndexError>;
}

/// Defines a row type and its [`Row`] implementation: key fields first,
/// then the other columns, each named as its column; then, optionally, a
/// `check "condition";` and `index name ("columns") [where "condition"];`
/// lines for the table's constraint and secondary indexes.
macro_rules! table {
    (
        $(#[$meta:meta])*
        $name:ident in $table:literal {
            key { $( $(#[$kmeta:meta])* $k:ident : $kt:ty ),+ $(,)? }
            $( $(#[$fmeta:meta])* $f:ident : $ft:ty ),* $(,)?
        }
        $( check $check:literal; )?
        $( index $index:ident ($icols:literal) $( where $ifilter:literal )?; )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$kmeta])* pub $k: $kt, )+
            $( $(#[$fmeta])* pub $f: $ft, )*
        }

        impl $crate::schema::Row for $name {
            type Key = ($($kt,)+);
            const DEF: $crate::schema::TableDef = $crate::schema::TableDef {
                name: $table,
                columns: &[
                    $( $crate::schema::Col {
                        name: stringify!($k),
                        ty: <$kt as $crate::schema::Column>::TYPE,
                    }, )+
                    $( $crate::schema::Col {
                        name: stringify!($f),
                        ty: <$ft as $crate::schema::Column>::TYPE,
                    }, )*
                ],
                keys: [$(stringify!($k)),+].len(),
                check: $crate::schema::first(&[$($check)?]),
                indexes: &[
                    $( $crate::schema::Index {
                        name: stringify!($index),
                        columns: $icols,
                        filter: $crate::schema::first(&[$($ifilter)?]),
                    }, )*
                ],
            };

            fn key(&self) -> Self::Key {
                ($(self.$k.clone(),)+)
            }

            fn key_values(key: &Self::Key) -> Vec<$crate::schema::Value> {
                let ($($k,)+) = key;
                vec![$($crate::schema::Column::to_value($k),)+]
            }

            fn values(&self) -> Vec<$crate::schema::Value> {
                vec![
                    $($crate::schema::Column::to_value(&self.$k),)+
                    $($crate::schema::Column::to_value(&self.$f),)*
                ]
            }

            fn from_values(
                values: Vec<$crate::schema::Value>,
            ) -> Result<Self, $crate::error::IndexError> {
                let mut it = values.into_iter();
                Ok(Self {
                    $( $k: $crate::schema::take(&mut it, $table, stringify!($k))?, )+
                    $( $f: $crate::schema::take(&mut it, $table, stringify!($f))?, )*
                })
            }
        }
    };
}
pub(crate) use table;

/// The first of none or one optional clause given to [`table!`].
#[doc(hidden)]
pub const fn first(items: &[&'static str]) -> Option<&'static str> {
    match items {
        [one, ..] => Some(*one),
        [] => None,
    }
}

/// The next value of a row, as the column's Rust type.
pub(crate) fn take<T: Column>(
    it: &mut impl Iterator<Item = Value>,
    table: &str,
    column: &str,
) -> Result<T, IndexError> {
    let value = it.next().ok_or_else(|| IndexError::Corrupt {
        table: table.to_owned(),
        reason: format!("column {column} is missing"),
    })?;
    let shown = format!("{value:?}");
    T::from_value(value).ok_or_else(|| IndexError::Corrupt {
        table: table.to_owned(),
        reason: format!("column {column} holds {shown}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    table! {
        /// A row for the tests.
        Sample in "sample" {
            key {
                /// Key.
                id: i64,
            }
            /// Exact.
            amount: u128,
            /// Optional text.
            note: Option<String>,
            /// Bytes.
            data: Vec<u8>,
        }
        check "id > 0";
        index sample_note ("note, id DESC") where "note IS NOT NULL";
    }

    table! {
        /// A table with a two-column key and nothing else to it.
        Pair in "pair" {
            key {
                /// First.
                a: i64,
                /// Second.
                b: String,
            }
        }
    }

    fn names(kind: Kind) -> &'static str {
        match kind {
            Kind::Int => "INT8",
            Kind::Text => "STR",
            Kind::Exact => "DEC",
            Kind::Bool => "BOOL",
            Kind::Bytes => "BIN",
        }
    }

    #[test]
    fn ddl_names_every_column_in_the_dialect_with_key_check_and_indexes() {
        assert_eq!(
            Sample::DEF.ddl(names),
            [
                "CREATE TABLE \"sample\" (\n    \"id\" INT8 NOT NULL,\n    \"amount\" DEC NOT NULL,\n    \
                 \"note\" STR,\n    \"data\" BIN NOT NULL,\n    PRIMARY KEY (\"id\"),\n    CHECK (id > 0)\n)",
                "CREATE INDEX \"sample_note\" ON \"sample\" (note, id DESC) WHERE note IS NOT NULL",
            ]
        );
        assert_eq!(
            Pair::DEF.ddl(names),
            [
                "CREATE TABLE \"pair\" (\n    \"a\" INT8 NOT NULL,\n    \"b\" STR NOT NULL,\n    \
              PRIMARY KEY (\"a\", \"b\")\n)"
            ]
        );
        assert!(Pair::DEF.value_columns().is_empty());
    }

    #[test]
    fn rows_round_trip_through_values_and_json() {
        let row = Sample {
            id: 3,
            amount: u128::MAX,
            note: None,
            data: vec![0, 255],
        };
        assert_eq!(Sample::DEF.keys, 1);
        assert_eq!(Sample::DEF.columns.len(), 4);
        assert_eq!(
            Sample::DEF.key_columns().first().map(|c| c.name),
            Some("id")
        );
        assert_eq!(
            Sample::DEF.value_columns().first().map(|c| c.ty),
            Some(ColType {
                kind: Kind::Exact,
                nullable: false
            })
        );
        let values = row.values();
        let json = serde_json::to_string(&values).expect("serialises");
        let back: Vec<Value> = serde_json::from_str(&json).expect("parses");
        assert_eq!(Sample::from_values(back).expect("decodes"), row);
    }

    #[test]
    fn values_of_the_wrong_kind_are_refused() {
        let bad = vec![
            Value::Int(1),
            Value::Text("12".into()),
            Value::Null,
            Value::Bytes(vec![]),
        ];
        assert!(Sample::from_values(bad).is_err());
        assert!(Sample::from_values(vec![Value::Int(1)]).is_err());
    }
}
