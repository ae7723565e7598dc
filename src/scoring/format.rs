//! The stored form of a model: a versioned binary file, little-endian.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "CLQSCORE"
//!      8     2  format version (1)
//!     10     1  bits: the table has 2^bits weights
//!     11     1  reserved, 0
//!     12     4  feature kinds ignored (bit n: `FeatureKind` n)
//!     16    16  alpha, beta, l1, l2 (f32 each)
//!     32    16  decisions learned: ham, spam (u64 each)
//!     48     8  intercept state: z, n (f32 each)
//!     56     4  entry count (u32)
//!     60     …  entries, by increasing bucket: the gap to the previous
//!               bucket (LEB128; the first is the bucket itself), z, n (f32)
//!   end-8    8  FNV-1a 64 of every byte before it
//! ```
//!
//! Only buckets that have learned something are stored, so an empty model
//! is 68 bytes and the starter model about ten bytes a weight. Reading
//! checks every field and never panics: a wrong magic, another version, a
//! truncated or altered file are each an error.

use super::features::FeatureKinds;
use super::model::{Coord, Model, Params, MAX_BITS, MIN_BITS};

/// The format [`Model::to_bytes`] writes.
pub const FORMAT_VERSION: u16 = 1;

const MAGIC: &[u8; 8] = b"CLQSCORE";
const HEADER: usize = 60;

/// Why stored bytes are not a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The bytes do not start with the model magic.
    #[error("not a Colloquy scoring model")]
    NotAModel,
    /// A format this build cannot read.
    #[error("scoring model format {found} is not supported (this build reads {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// The version the bytes carry.
        found: u16,
    },
    /// The bytes end early.
    #[error("scoring model is truncated")]
    Truncated,
    /// The checksum does not match: the bytes were altered.
    #[error("scoring model checksum does not match")]
    Checksum,
    /// A field holds an impossible value.
    #[error("scoring model is corrupt: {0}")]
    Corrupt(&'static str),
}

impl Model {
    /// The format version of [`Model::to_bytes`].
    #[must_use]
    pub fn version(&self) -> u16 {
        FORMAT_VERSION
    }

    /// The model as bytes, to store or export. The same model gives the
    /// same bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let entries: Vec<(u32, &Coord)> = self.learned_state().collect();
        let mut out = Vec::with_capacity(HEADER + 10 * entries.len() + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(self.params.bits);
        out.push(0);
        out.extend_from_slice(&self.params.ignore.bits().to_le_bytes());
        for f in [
            self.params.alpha,
            self.params.beta,
            self.params.l1,
            self.params.l2,
        ] {
            out.extend_from_slice(&f.to_le_bytes());
        }
        for n in self.learned {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.bias.z.to_le_bytes());
        out.extend_from_slice(&self.bias.n.to_le_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        let mut prev = 0u32;
        for (i, c) in entries {
            leb128(&mut out, i - prev);
            prev = i;
            out.extend_from_slice(&c.z.to_le_bytes());
            out.extend_from_slice(&c.n.to_le_bytes());
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads a model written by [`Model::to_bytes`].
    ///
    /// # Errors
    /// A [`ModelError`] saying why the bytes are not a model this build
    /// reads.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(if MAGIC.starts_with(bytes) {
                ModelError::Truncated
            } else {
                ModelError::NotAModel
            });
        }
        let mut r = Reader { bytes, at: 8 };
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion { found: version });
        }
        let Some(body_len) = bytes.len().checked_sub(8).filter(|n| *n >= HEADER) else {
            return Err(ModelError::Truncated);
        };
        let (body, sum) = bytes.split_at(body_len);
        if fnv1a(body).to_le_bytes() != sum {
            return Err(ModelError::Checksum);
        }
        let mut r = Reader {
            bytes: body,
            at: 10,
        };
        let bits = r.u8()?;
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(ModelError::Corrupt("table size out of range"));
        }
        if r.u8()? != 0 {
            return Err(ModelError::Corrupt("reserved byte is set"));
        }
        let ignore = FeatureKinds::from_bits(r.u32()?)
            .ok_or(ModelError::Corrupt("unknown feature kind ignored"))?;
        let params = Params {
            bits,
            ignore,
            alpha: r.f32()?,
            beta: r.f32()?,
            l1: r.f32()?,
            l2: r.f32()?,
        };
        let in_range =
            |f: f32, min_ok: bool| f.is_finite() && if min_ok { f >= 0.0 } else { f > 0.0 };
        let settings_ok = in_range(params.alpha, false)
            && [params.beta, params.l1, params.l2]
                .iter()
                .all(|f| in_range(*f, true));
        if !settings_ok {
            return Err(ModelError::Corrupt("learning settings out of range"));
        }
        let learned = [r.u64()?, r.u64()?];
        let bias = r.coord()?;
        let count = r.u32()? as usize;
        let size = 1usize << bits;
        if count > size || count > (body.len() - HEADER) / 9 {
            return Err(ModelError::Corrupt("entry count too large"));
        }
        let mut state = Vec::with_capacity(count);
        let mut prev: Option<u32> = None;
        for _ in 0..count {
            let gap = r.leb128()?;
            let i = match prev {
                None => gap,
                Some(_) if gap == 0 => return Err(ModelError::Corrupt("buckets out of order")),
                Some(p) => p
                    .checked_add(gap)
                    .ok_or(ModelError::Corrupt("bucket out of range"))?,
            };
            if i as usize >= size {
                return Err(ModelError::Corrupt("bucket out of range"));
            }
            let c = r.coord()?;
            if c == Coord::default() {
                return Err(ModelError::Corrupt("an entry holds no state"));
            }
            state.push((i, c));
            prev = Some(i);
        }
        if r.at != body.len() {
            return Err(ModelError::Corrupt("bytes after the last entry"));
        }
        Ok(Model::from_state(params, state, bias, learned))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let end = self.at.checked_add(N).ok_or(ModelError::Truncated)?;
        let b = self.bytes.get(self.at..end).ok_or(ModelError::Truncated)?;
        self.at = end;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    fn coord(&mut self) -> Result<Coord, ModelError> {
        let c = Coord {
            z: self.f32()?,
            n: self.f32()?,
        };
        if !(c.z.is_finite() && c.n.is_finite() && c.n >= 0.0) {
            return Err(ModelError::Corrupt("weight state is not a finite number"));
        }
        Ok(c)
    }
    fn leb128(&mut self) -> Result<u32, ModelError> {
        let mut v: u32 = 0;
        for shift in [0, 7, 14, 21, 28] {
            let b = self.u8()?;
            if shift == 28 && b > 0x0f {
                return Err(ModelError::Corrupt("bucket out of range"));
            }
            v |= u32::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ModelError::Corrupt("bucket out of range"))
    }
}

fn leb128(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
