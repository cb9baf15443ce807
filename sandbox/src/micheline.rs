//! Binary Micheline, as outbox messages carry it, read into a tree and shown
//! in Micheline's JSON form.

use num_bigint::{BigInt, Sign};
use serde_json::{json, Value};

/// Deepest nesting read, so that hostile bytes cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

/// Names of the primitives that make Michelson data, by their binary tag.
const DATA_PRIMITIVES: [&str; 12] = [
    "parameter",
    "storage",
    "code",
    "False",
    "Elt",
    "Left",
    "None",
    "Pair",
    "Right",
    "Some",
    "True",
    "Unit",
];

/// A Micheline expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Micheline {
    /// An integer.
    Int(BigInt),
    /// A string.
    String(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A sequence.
    Seq(Vec<Micheline>),
    /// A primitive application.
    Prim {
        /// The primitive's binary tag.
        tag: u8,
        /// Its arguments.
        args: Vec<Micheline>,
        /// Its annotations, space-separated.
        annots: Option<String>,
    },
}

/// Why bytes are not Micheline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MichelineError {
    /// The bytes end inside an expression.
    #[error("Micheline ends early")]
    Truncated,
    /// An unknown node tag.
    #[error("unknown Micheline tag {0}")]
    Tag(u8),
    /// A primitive this reader does not name.
    #[error("unknown Michelson primitive {0}")]
    Primitive(u8),
    /// Nested deeper than this reader follows.
    #[error("Micheline nested too deep")]
    TooDeep,
    /// A string that is not UTF-8.
    #[error("Micheline string is not UTF-8")]
    Utf8,
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MichelineError> {
        let (head, rest) = self
            .bytes
            .split_at_checked(n)
            .ok_or(MichelineError::Truncated)?;
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, MichelineError> {
        self.take(1)?
            .first()
            .copied()
            .ok_or(MichelineError::Truncated)
    }

    fn u32(&mut self) -> Result<usize, MichelineError> {
        let b: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| MichelineError::Truncated)?;
        usize::try_from(u32::from_be_bytes(b)).map_err(|_| MichelineError::Truncated)
    }

    fn sized(&mut self) -> Result<&'a [u8], MichelineError> {
        let n = self.u32()?;
        self.take(n)
    }

    fn zarith(&mut self) -> Result<BigInt, MichelineError> {
        let first = self.u8()?;
        let negative = first & 0x40 != 0;
        let mut value = BigInt::from(first & 0x3f);
        let mut shift = 6u32;
        let mut more = first & 0x80 != 0;
        while more {
            let b = self.u8()?;
            value += BigInt::from(b & 0x7f) << shift;
            shift = shift.checked_add(7).ok_or(MichelineError::TooDeep)?;
            more = b & 0x80 != 0;
        }
        Ok(if negative { -value } else { value })
    }

    fn annots(&mut self) -> Result<String, MichelineError> {
        String::from_utf8(self.sized()?.to_vec()).map_err(|_| MichelineError::Utf8)
    }

    fn prim(&mut self) -> Result<u8, MichelineError> {
        let tag = self.u8()?;
        if usize::from(tag) < DATA_PRIMITIVES.len() {
            Ok(tag)
        } else {
            Err(MichelineError::Primitive(tag))
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Micheline, MichelineError> {
        if depth > MAX_DEPTH {
            return Err(MichelineError::TooDeep);
        }
        let d = depth + 1;
        let node = match self.u8()? {
            0 => Micheline::Int(self.zarith()?),
            1 => Micheline::String(
                String::from_utf8(self.sized()?.to_vec()).map_err(|_| MichelineError::Utf8)?,
            ),
            2 => {
                let mut inner = Reader {
                    bytes: self.sized()?,
                };
                let mut items = Vec::new();
                while !inner.bytes.is_empty() {
                    items.push(inner.expr(d)?);
                }
                Micheline::Seq(items)
            }
            t @ 3..=8 => {
                let tag = self.prim()?;
                let arity = usize::from((t - 3) / 2);
                let mut args = Vec::with_capacity(arity);
                for _ in 0..arity {
                    args.push(self.expr(d)?);
                }
                let annots = if (t - 3) % 2 == 1 {
                    Some(self.annots()?)
                } else {
                    None
                };
                Micheline::Prim { tag, args, annots }
            }
            9 => {
                let tag = self.prim()?;
                let mut inner = Reader {
                    bytes: self.sized()?,
                };
                let mut args = Vec::new();
                while !inner.bytes.is_empty() {
                    args.push(inner.expr(d)?);
                }
                let annots = self.annots()?;
                Micheline::Prim {
                    tag,
                    args,
                    annots: (!annots.is_empty()).then_some(annots),
                }
            }
            10 => Micheline::Bytes(self.sized()?.to_vec()),
            t => return Err(MichelineError::Tag(t)),
        };
        Ok(node)
    }
}

impl Micheline {
    /// Reads one expression from the front of `bytes`; returns it and the
    /// bytes after it.
    pub fn read(bytes: &[u8]) -> Result<(Micheline, &[u8]), MichelineError> {
        let mut r = Reader { bytes };
        let e = r.expr(0)?;
        Ok((e, r.bytes))
    }

    /// The primitive's name, for a primitive.
    pub fn prim_name(tag: u8) -> &'static str {
        DATA_PRIMITIVES.get(usize::from(tag)).copied().unwrap_or("")
    }

    /// Micheline's JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Micheline::Int(i) => json!({ "int": i.to_string() }),
            Micheline::String(s) => json!({ "string": s }),
            Micheline::Bytes(b) => json!({ "bytes": hex::encode(b) }),
            Micheline::Seq(items) => Value::Array(items.iter().map(Micheline::to_json).collect()),
            Micheline::Prim { tag, args, annots } => {
                let mut o = serde_json::Map::new();
                o.insert("prim".into(), json!(Self::prim_name(*tag)));
                if !args.is_empty() {
                    o.insert(
                        "args".into(),
                        Value::Array(args.iter().map(Micheline::to_json).collect()),
                    );
                }
                if let Some(a) = annots {
                    o.insert("annots".into(), json!(a.split(' ').collect::<Vec<_>>()));
                }
                Value::Object(o)
            }
        }
    }

    /// The arguments of a `Pair`.
    pub fn as_pair(&self) -> Option<(&Micheline, &Micheline)> {
        match self {
            Micheline::Prim { tag: 7, args, .. } => match args.as_slice() {
                [a, b] => Some((a, b)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value of an integer that fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Micheline::Int(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }

    /// A positive integer as a `u128`.
    pub fn as_u128(&self) -> Option<u128> {
        match self {
            Micheline::Int(i) if i.sign() != Sign::Minus => u128::try_from(i).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_reads_into_json() {
        // Pair (bytes 0x01..) (Pair (Pair 0 None) 250)
        let mut b = vec![
            7, 7, 10, 0, 0, 0, 2, 1, 2, 7, 7, 7, 7, 0, 0, 3, 6, 0, 0xba, 0x03,
        ];
        b.push(0xff);
        let (e, rest) = Micheline::read(&b).unwrap();
        assert_eq!(rest, &[0xff]);
        assert_eq!(
            e.to_json(),
            json!({"prim":"Pair","args":[{"bytes":"0102"},{"prim":"Pair","args":[
                {"prim":"Pair","args":[{"int":"0"},{"prim":"None"}]},{"int":"250"}]}]})
        );
        let (_, inner) = e.as_pair().unwrap();
        let (_, amount) = inner.as_pair().unwrap();
        assert_eq!(amount.as_u64(), Some(250));
    }

    #[test]
    fn strings_sequences_negatives_and_annotations() {
        let mut seq = vec![1, 0, 0, 0, 1, b'a', 0, 0x41, 3, 11];
        let mut b = vec![2, 0, 0, 0, seq.len() as u8];
        b.append(&mut seq);
        let (e, rest) = Micheline::read(&b).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            e.to_json(),
            json!([{"string":"a"},{"int":"-1"},{"prim":"Unit"}])
        );
        let (annotated, rest) = Micheline::read(&[4, 11, 0, 0, 0, 2, b'%', b'x']).unwrap();
        assert!(rest.is_empty());
        assert_eq!(annotated.to_json(), json!({"prim":"Unit","annots":["%x"]}));
        // A large integer over several bytes: 1000 = 0b1111101000.
        let (big, _) = Micheline::read(&[0, 0xa8, 0x0f]).unwrap();
        assert_eq!(big.as_u64(), Some(1000));
        assert_eq!(big.as_u128(), Some(1000));
    }

    #[test]
    fn bad_bytes_are_refused() {
        assert_eq!(Micheline::read(&[]), Err(MichelineError::Truncated));
        assert_eq!(Micheline::read(&[11]), Err(MichelineError::Tag(11)));
        assert_eq!(
            Micheline::read(&[3, 200]),
            Err(MichelineError::Primitive(200))
        );
        assert_eq!(
            Micheline::read(&[1, 0, 0, 0, 5, b'a']),
            Err(MichelineError::Truncated)
        );
        let deep = [5u8, 9].repeat(300);
        assert_eq!(Micheline::read(&deep), Err(MichelineError::TooDeep));
    }
}
