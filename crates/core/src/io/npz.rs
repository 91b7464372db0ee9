//! NumPy `.npz` instances: the archive `numpy.savez` and `numpy.savez_compressed`
//! write, read and written without Python.
//!
//! The arrays (each an `.npy` entry of the zip archive):
//!
//! - `tokens`, `classes`: shape `(I,)`, integers >= 1 (the JSON `groups`);
//! - `x`: shape `(S, I)`, C order or Fortran order, the token of every sample in every
//!   group;
//! - `y`: shape `(S,)`, the label of every sample, an integer (`1` here and `1` or
//!   `1.0` in JSON are one label);
//! - `planted_0` .. `planted_{I-1}` (optional, all or none): shape `(N_g,)`, the
//!   planted class of every token of group `g`.
//!
//! Every integer dtype is accepted: signed or unsigned, 8 to 64 bits, either byte
//! order (`<i8`, `|u1`, `>i4`, ...); floats, booleans, strings and objects are not.
//! Reading streams each array into the instance's flat storage, so memory follows the
//! bytes present: an `.npy` header whose shape does not match its entry's size, and an
//! entry whose declared size cannot come out of its compressed bytes, are refused
//! before any data is read. The instance is then validated by the same code as a JSON
//! file, and errors name the same places (`samples[3].x[1]`); a problem in an array
//! itself names the array and index (`x[3][1]`, `y[7]`, `tokens[0]`).
//!
//! Written archives are compressed (deflate, as `numpy.savez_compressed`), each array
//! in the smallest integer dtype that holds its values.

use crate::error::{Error, InputKind, Location, Result};
use crate::io::arrays::{
    class, count, one_d_want, shape_error, shape_text, token_error, value_error, x_want, IntLabels,
};
use crate::io::output;
use crate::model::instance::{Group, Instance, Planted};
use crate::model::label::Label;
use std::fmt;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// The first bytes of every `.npy` array.
const MAGIC: &[u8] = b"\x93NUMPY";
/// The longest `.npy` header dictionary accepted, in bytes (numpy's own limit is 10,000).
const MAX_HEADER: u64 = 65_536;
/// Deflate cannot expand data more than about 1032 times: an entry declaring more
/// than this many bytes per compressed byte lies about its size.
const MAX_RATIO: u64 = 1032;
/// Bytes read from an array per step.
const CHUNK: usize = 1 << 16;

/// True when `path` names an `.npz` file: its extension is `npz`, in any case.
pub fn is_npz(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// Reads and validates an `.npz` instance file.
pub fn read(path: &str) -> Result<Instance> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    from_reader(std::io::BufReader::new(file), path)
}

/// Reads and validates an `.npz` instance from `reader`; `origin` names it in errors.
pub fn from_reader<R: Read + Seek>(mut reader: R, origin: &str) -> Result<Instance> {
    let len = reader
        .seek(SeekFrom::End(0))
        .and_then(|n| reader.seek(SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| Error::io(origin, e))?;
    let zip = ZipArchive::new(reader).map_err(|e| {
        Error::input_at(
            origin,
            InputKind::Syntax,
            None,
            format!(
                "not an .npz file (a zip archive of .npy arrays, as numpy.savez writes): {}",
                one_line(&e)
            ),
        )
    })?;
    let mut archive = Archive { zip, origin, len };
    let planted_arrays = archive.check_names()?;
    let tokens = archive.read_1d("tokens", None, count)?;
    let arity = tokens.len();
    archive.check_planted(&planted_arrays, arity)?;
    let classes = archive.read_1d("classes", Some(("tokens", arity)), count)?;
    let groups: Vec<Group> = tokens
        .iter()
        .zip(&classes)
        .map(|(&n, &k)| Group::new(n, k))
        .collect();
    let x = archive.read_x(arity)?;
    let samples = x.len() / arity;
    let (labels, values) = archive.read_y(samples)?;
    let planted = match planted_arrays.is_empty() {
        true => None,
        false => {
            let mut partition = Vec::with_capacity(arity);
            for (g, &n) in tokens.iter().enumerate() {
                let name = format!("planted_{g}");
                let what = format!("tokens[{g}]");
                partition.push(archive.read_1d(&name, Some((&what, n as usize)), class)?);
            }
            Some(Planted {
                partition,
                table: None,
            })
        }
    };
    Instance::from_flat(groups, x, labels, values, planted)
        .map_err(|m| m.into_error(origin, "invalid instance: "))
}

/// The parts of an instance an `.npz` file has no array for and leaves out: `meta`
/// and `planted.table` (which the planted partition and the samples imply).
pub fn dropped(instance: &Instance) -> Vec<&'static str> {
    let mut out = Vec::new();
    if instance.meta.is_some() {
        out.push("meta");
    }
    if instance.planted.as_ref().is_some_and(|p| p.table.is_some()) {
        out.push("planted.table");
    }
    out
}

/// The instance as an `.npz` archive (see [`dropped`] for what it leaves out).
/// Refused, naming the place: a label that is not an integer of at most 64 bits
/// (strings, fractions), and group or token names, which an `.npz` file cannot hold;
/// `origin` names the instance in these errors.
pub fn to_bytes(instance: &Instance, origin: &str) -> Result<Vec<u8>> {
    refuse_names_and_weights(instance, origin)?;
    let labels = integer_labels(instance, origin)?;
    write_arrays(instance, &labels)
        .map_err(|e| Error::Internal(format!("writing an .npz archive in memory: {e}")))
}

/// The error for a part of an instance (at `at`) an `.npz` file cannot hold.
fn refuse(origin: &str, at: String, message: String) -> Error {
    Error::input_at(
        origin,
        InputKind::Invalid,
        Some(Location::Path(at.clone())),
        format!("{at}{message}; keep this instance as JSON"),
    )
}

/// Refuses group or token names and sample weights, which an `.npz` file has no array
/// for.
fn refuse_names_and_weights(instance: &Instance, origin: &str) -> Result<()> {
    for (g, group) in instance.groups().iter().enumerate() {
        let field = match (&group.name, &group.token_names) {
            (Some(_), _) => "name",
            (None, Some(_)) => "token_names",
            (None, None) => continue,
        };
        return Err(refuse(
            origin,
            format!("groups[{g}].{field}"),
            ": an .npz file has no array for group or token names".into(),
        ));
    }
    if instance.weighted() {
        return Err(refuse(
            origin,
            "samples[0].w".into(),
            ": an .npz file has no array for sample weights".into(),
        ));
    }
    Ok(())
}

/// Each distinct label as an integer, by id: refused (naming its first sample) when one
/// is not an integer of at most 64 bits, or when no one 64-bit dtype holds them all.
fn integer_labels(instance: &Instance, origin: &str) -> Result<Vec<i128>> {
    let labels: Vec<i128> = instance
        .values()
        .iter()
        .enumerate()
        .map(|(id, label)| {
            label
                .integer()
                .filter(|&v| Dtype::smallest(v, v).is_some())
                .ok_or_else(|| {
                    let s = (0..instance.num_samples())
                        .find(|&s| instance.label_id(s) as usize == id)
                        .expect("every value labels a sample");
                    refuse(
                        origin,
                        format!("samples[{s}].y"),
                        format!(" = {label} is not an integer of at most 64 bits: an .npz file holds integer labels only"),
                    )
                })
        })
        .collect::<Result<_>>()?;
    let (lo, hi) = (labels.iter().min(), labels.iter().max());
    if let (Some(&lo), Some(&hi)) = (lo, hi) {
        if Dtype::smallest(lo, hi).is_none() {
            return Err(refuse(
                origin,
                "samples".into(),
                format!(" have labels from {lo} to {hi}, which no 64-bit integer dtype holds"),
            ));
        }
    }
    Ok(labels)
}

/// The archive's bytes: `tokens`, `classes`, `x`, `y` (each sample's label as its
/// integer in `labels`) and the planted partition, if any.
fn write_arrays(instance: &Instance, labels: &[i128]) -> std::result::Result<Vec<u8>, ZipError> {
    let (s, i) = (instance.num_samples(), instance.arity());
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let groups = instance.groups();
    put_array(
        &mut zip,
        "tokens",
        &[i],
        groups.iter().map(|g| g.tokens.into()),
    )?;
    put_array(
        &mut zip,
        "classes",
        &[i],
        groups.iter().map(|g| g.classes.into()),
    )?;
    let x = (0..s).flat_map(|s| instance.x(s).iter().map(|&t| t.into()));
    put_array(&mut zip, "x", &[s, i], x)?;
    let y = (0..s).map(|s| labels[instance.label_id(s) as usize]);
    put_array(&mut zip, "y", &[s], y)?;
    for (g, row) in instance
        .planted
        .iter()
        .flat_map(|p| &p.partition)
        .enumerate()
    {
        let name = format!("planted_{g}");
        put_array(&mut zip, &name, &[row.len()], row.iter().map(|&c| c.into()))?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Writes the instance as an `.npz` file at `path`, atomically (see [`to_bytes`]).
pub fn write(instance: &Instance, path: &str, origin: &str) -> Result<()> {
    let bytes = to_bytes(instance, origin)?;
    output::write_file(Path::new(path), |w| w.write_all(&bytes))
}

/// Adds array `name` (`values` in C order, of shape `shape`) in the smallest dtype
/// that holds them, deflated.
fn put_array(
    zip: &mut ZipWriter<Cursor<Vec<u8>>>,
    name: &str,
    shape: &[usize],
    values: impl Iterator<Item = i128> + Clone,
) -> std::result::Result<(), ZipError> {
    let (min, max) = values
        .clone()
        .fold((0, 0), |(lo, hi): (i128, i128), v| (lo.min(v), hi.max(v)));
    let dtype = Dtype::smallest(min, max).expect("values are checked to fit 64 bits");
    let shape: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
    let header = header_bytes(dtype, &shape);
    let bytes = shape.iter().product::<u64>() * dtype.size as u64 + header.len() as u64;
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(bytes >= u64::from(u32::MAX));
    zip.start_file(format!("{name}.npy"), options)?;
    zip.write_all(&header)?;
    let mut buf = Vec::with_capacity(CHUNK + 8);
    for v in values {
        dtype.put(v, &mut buf);
        if buf.len() >= CHUNK {
            zip.write_all(&buf)?;
            buf.clear();
        }
    }
    zip.write_all(&buf)?;
    Ok(())
}

/// An `.npy` version 1.0 header for a C-order array: magic, version, length, the
/// dictionary padded with spaces and a newline to a multiple of 64 bytes.
fn header_bytes(dtype: Dtype, shape: &[u64]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{dtype}', 'fortran_order': False, 'shape': {}, }}",
        shape_text(shape)
    );
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    let len = dict.len() + (64 - unpadded % 64) % 64 + 1;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(10 + len - 1, b' ');
    out.push(b'\n');
    out
}

/// A zip error as one line.
fn one_line(e: &ZipError) -> String {
    e.to_string().replace(['\n', '\r'], " ")
}

/// An open archive and what its messages need.
struct Archive<'a, R: Read + Seek> {
    zip: ZipArchive<R>,
    origin: &'a str,
    /// The archive's length in bytes: no entry can hold more compressed bytes.
    len: u64,
}

/// One `.npy` array's header.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Header {
    dtype: Dtype,
    fortran: bool,
    shape: Vec<u64>,
}

impl<'a, R: Read + Seek> Archive<'a, R> {
    /// An input error at `at` (an array name or an element of one).
    fn err(&self, kind: InputKind, at: impl Into<String>, message: impl fmt::Display) -> Error {
        let at = at.into();
        Error::input_at(
            self.origin,
            kind,
            Some(Location::Path(at.clone())),
            format!("{at}: {message}"),
        )
    }

    /// Checks the archive holds exactly the known arrays; returns the `g` of its `planted_g`.
    /// Names found in the archive are shown quoted and escaped (they are arbitrary bytes).
    fn check_names(&self) -> Result<Vec<usize>> {
        const EXPECTED: &str =
            "expected the arrays x, y, tokens, classes and optionally planted_0, planted_1, ...";
        if self.zip.has_duplicate_names() {
            return Err(Error::input_at(
                self.origin,
                InputKind::Shape,
                None,
                "two zip entries share one name, so which array is meant is ambiguous (numpy never writes that)",
            ));
        }
        let mut present = Vec::new();
        for raw in self.zip.file_names_raw() {
            let name = String::from_utf8_lossy(raw);
            let Some(array) = name.strip_suffix(".npy") else {
                return Err(self.err(
                    InputKind::Shape,
                    quoted(&name),
                    format_args!("is not an .npy array entry; {EXPECTED}"),
                ));
            };
            present.push(array.to_string());
        }
        let mut planted = Vec::new();
        for name in &present {
            match (name.as_str(), planted_index(name)) {
                ("x" | "y" | "tokens" | "classes", _) => {}
                (_, Some(g)) => planted.push(g),
                (other, None) => {
                    return Err(self.err(
                        InputKind::Shape,
                        quoted(other),
                        format_args!("unknown array; {EXPECTED}"),
                    ))
                }
            }
        }
        for required in ["tokens", "classes", "x", "y"] {
            if !present.iter().any(|n| n == required) {
                return Err(self.err(
                    InputKind::Shape,
                    required,
                    format_args!("missing; {EXPECTED}"),
                ));
            }
        }
        Ok(planted)
    }

    /// Checks the `planted_g` arrays (indices `planted`) are none, or one per group.
    fn check_planted(&self, planted: &[usize], arity: usize) -> Result<()> {
        if let Some(&g) = planted.iter().find(|&&g| g >= arity) {
            return Err(self.err(
                InputKind::Shape,
                format!("planted_{g}"),
                format_args!("there are {arity} groups in tokens, so the planted arrays are planted_0 to planted_{}", arity - 1),
            ));
        }
        match (0..arity).find(|g| !planted.contains(g)) {
            Some(g) if !planted.is_empty() => Err(self.err(
                InputKind::Shape,
                format!("planted_{g}"),
                format_args!("missing: a planted partition needs one array per group, planted_0 to planted_{}", arity - 1),
            )),
            _ => Ok(()),
        }
    }

    /// Opens array `name`: its entry, positioned at the data, and its header, checked
    /// against the entry's size before any data is read.
    fn open(&mut self, name: &str) -> Result<(zip::read::ZipFile<'_, R>, Header)> {
        let (origin, len) = (self.origin, self.len);
        let err = |kind, message: String| {
            Error::input_at(
                origin,
                kind,
                Some(Location::Path(name.to_string())),
                format!("{name}: {message}"),
            )
        };
        let mut entry = match self.zip.by_name(&format!("{name}.npy")) {
            Ok(e) => e,
            Err(ZipError::FileNotFound) => {
                return Err(err(InputKind::Shape, "missing".into()));
            }
            Err(e) => return Err(err(InputKind::Syntax, one_line(&e))),
        };
        let (size, packed) = (entry.size(), entry.compressed_size());
        let possible = match entry.compression() {
            CompressionMethod::Stored => size == packed,
            CompressionMethod::Deflated => size <= packed.saturating_mul(MAX_RATIO) + 64,
            other => {
                return Err(err(
                    InputKind::Shape,
                    format!("compressed with {other}; only stored and deflated entries (numpy.savez, numpy.savez_compressed) are read"),
                ))
            }
        };
        if packed > len || !possible {
            return Err(err(
                InputKind::TooLarge,
                format!("the zip entry declares {size} bytes from {packed} compressed bytes in a file of {len} bytes, which is impossible"),
            ));
        }
        let (header, header_len) =
            read_header(&mut entry, size).map_err(|m| err(InputKind::Syntax, m))?;
        let data = header
            .shape
            .iter()
            .try_fold(header.dtype.size as u64, |a, &n| a.checked_mul(n));
        if data.and_then(|d| d.checked_add(header_len)) != Some(size) {
            return Err(err(
                InputKind::TooLarge,
                format!(
                    "the header declares shape {} of '{}' ({} bytes of data), but the entry holds {} bytes after its header",
                    shape_text(&header.shape),
                    header.dtype,
                    data.map_or("too many".to_string(), |d| d.to_string()),
                    size.saturating_sub(header_len)
                ),
            ));
        }
        Ok((entry, header))
    }

    /// Reads the 1-D array `name` through `convert`; `like` names the array (or entry)
    /// whose length it must have, and that length.
    fn read_1d<T>(
        &mut self,
        name: &str,
        like: Option<(&str, usize)>,
        mut convert: impl FnMut(i128) -> std::result::Result<T, String>,
    ) -> Result<Vec<T>> {
        let origin = self.origin;
        let (mut entry, header) = self.open(name)?;
        let n = match (header.shape.as_slice(), like) {
            ([n], Some((_, want))) if *n == want as u64 => *n,
            ([n], None) if *n >= 1 => *n,
            (shape, like) => return Err(shape_error(origin, name, shape, one_d_want(like))),
        };
        let mut out = Vec::new();
        read_values(&mut entry, origin, name, header.dtype, n, |k, v| {
            let value = convert(v).map_err(|m| value_error(origin, name, k as usize, v, &m))?;
            out.push(value);
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads `x` (S x I, either order) into row-major token storage.
    fn read_x(&mut self, arity: usize) -> Result<Vec<u32>> {
        let origin = self.origin;
        let (mut entry, header) = self.open("x")?;
        let samples = match header.shape.as_slice() {
            [s, i] if *i == arity as u64 => *s,
            shape => return Err(shape_error(origin, "x", shape, x_want(arity))),
        };
        // The tokens, and the value ids read next: refused before either is held.
        let need = samples.saturating_mul(arity as u64 + 1).saturating_mul(4);
        crate::memory::afford(need, || {
            format!("{origin}: x and y ({samples} samples of {arity} tokens)")
        })?;
        let (rows, fortran) = (samples as usize, header.fortran);
        // Element k of the file is sample s, group g.
        let place = |k: u64| {
            let k = k as usize;
            if fortran {
                (k % rows, k / rows)
            } else {
                (k / arity, k % arity)
            }
        };
        let mut tokens = Vec::new();
        read_values(
            &mut entry,
            origin,
            "x",
            header.dtype,
            samples * arity as u64,
            |k, v| {
                let t = u32::try_from(v).map_err(|_| {
                    let (s, g) = place(k);
                    token_error(origin, s, g, v)
                })?;
                tokens.push(t);
                Ok(())
            },
        )?;
        if fortran && arity > 1 && rows > 1 {
            let mut rowwise = vec![0; tokens.len()];
            for (k, &t) in tokens.iter().enumerate() {
                let (s, g) = place(k as u64);
                rowwise[s * arity + g] = t;
            }
            tokens = rowwise;
        }
        Ok(tokens)
    }

    /// Reads `y` (one integer per sample): a label id per sample and the distinct labels.
    fn read_y(&mut self, samples: usize) -> Result<(Vec<u32>, Vec<Label>)> {
        let mut interner = IntLabels::default();
        let labels = self.read_1d("y", Some(("x's rows", samples)), |v| Ok(interner.id(v)))?;
        Ok((labels, interner.into_values()))
    }
}

/// `g` for an array named `planted_g` (decimal, no leading zero).
fn planted_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("planted_")?;
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    ok.then(|| digits.parse().ok()).flatten()
}

/// Reads `buf.len()` bytes, or fewer at the end of the data; returns how many.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads an `.npy` header; returns it and its length in bytes (magic and all).
/// `size` is the entry's size: a header cannot be longer.
fn read_header(r: &mut impl Read, size: u64) -> std::result::Result<(Header, u64), String> {
    let cannot = |e: std::io::Error| format!("cannot read the .npy header: {e}");
    let mut start = [0u8; 10];
    let got = fill(r, &mut start).map_err(cannot)?;
    if got < 8 || &start[..6] != MAGIC {
        return Err("not an .npy array (its first bytes are not \\x93NUMPY)".into());
    }
    let (major, minor) = (start[6], start[7]);
    let (len, prefix) = match major {
        1 if got == 10 => (u64::from(u16::from_le_bytes([start[8], start[9]])), 10),
        2 | 3 => {
            let mut rest = [0u8; 2];
            if got < 10 || fill(r, &mut rest).map_err(cannot)? < 2 {
                return Err("the .npy header is truncated".into());
            }
            let len = u32::from_le_bytes([start[8], start[9], rest[0], rest[1]]);
            (u64::from(len), 12)
        }
        1 => return Err("the .npy header is truncated".into()),
        _ => {
            return Err(format!(
                ".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)"
            ))
        }
    };
    if len > MAX_HEADER || prefix + len > size {
        return Err(format!(
            "the .npy header declares {len} bytes, more than {} ",
            if len > MAX_HEADER {
                format!("the {MAX_HEADER} accepted")
            } else {
                format!("the entry's {size}")
            }
        )
        .trim_end()
        .to_string());
    }
    let mut text = vec![0u8; len as usize];
    if fill(r, &mut text).map_err(cannot)? < text.len() {
        return Err("the .npy header is truncated".into());
    }
    let text = std::str::from_utf8(&text).map_err(|_| "the .npy header is not text".to_string())?;
    Ok((parse_header(text)?, prefix + len))
}

/// A value of the header dictionary (the Python literals numpy writes there).
#[derive(Debug, PartialEq)]
enum Py {
    Str(String),
    Bool(bool),
    Tuple(Vec<u64>),
}

/// Parses the header dictionary: `{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }`.
fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let bad = |what: &str| {
        let mut shown: String = text.trim_end().chars().take(80).collect();
        if shown.len() < text.trim_end().len() {
            shown.push_str("...");
        }
        format!("the .npy header {what}: {shown:?}")
    };
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut entries = Vec::new();
    p.expect(b'{').ok_or_else(|| bad("is not a dictionary"))?;
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p
            .string()
            .ok_or_else(|| bad("is not a dictionary of quoted keys"))?;
        p.expect(b':').ok_or_else(|| bad("is not a dictionary"))?;
        let value = p.value().ok_or_else(|| {
            bad("has a value that is not a string, True/False or a tuple of whole numbers")
        })?;
        entries.push((key, value));
        if !p.eat(b',') {
            p.expect(b'}').ok_or_else(|| bad("is not a dictionary"))?;
            break;
        }
    }
    p.skip();
    if p.i != p.s.len() {
        return Err(bad("has text after its dictionary"));
    }
    let mut take = |key: &str| {
        let at = entries.iter().position(|(k, _)| k == key);
        at.map(|i| entries.remove(i).1)
    };
    let (descr, fortran, shape) = (take("descr"), take("fortran_order"), take("shape"));
    if let Some((key, _)) = entries.first() {
        // A plain key as written; any other escaped, so the message stays one line.
        let shown = quoted(key);
        let shown = match shown.starts_with('"') {
            true => shown,
            false => format!("'{shown}'"),
        };
        return Err(bad(&format!("has the unknown or repeated key {shown}")));
    }
    let descr = match descr {
        Some(Py::Str(d)) => d,
        _ => return Err(bad("needs 'descr', a dtype string like '<i8'")),
    };
    let fortran = match fortran {
        Some(Py::Bool(b)) => b,
        _ => return Err(bad("needs 'fortran_order', True or False")),
    };
    let shape = match shape {
        Some(Py::Tuple(t)) => t,
        _ => return Err(bad("needs 'shape', a tuple of whole numbers")),
    };
    Ok(Header {
        dtype: descr.parse()?,
        fortran,
        shape,
    })
}

/// A cursor over the header text.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    /// Skips white space, then takes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        self.skip();
        let next = self.s.get(self.i) == Some(&b);
        self.i += usize::from(next);
        next
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }

    /// A quoted string without escapes.
    fn string(&mut self) -> Option<String> {
        self.skip();
        let quote = *self.s.get(self.i).filter(|&&q| q == b'\'' || q == b'"')?;
        let start = self.i + 1;
        let len = self.s[start..].iter().position(|&b| b == quote)?;
        let body = &self.s[start..start + len];
        self.i = start + len + 1;
        (!body.contains(&b'\\')).then(|| String::from_utf8_lossy(body).into_owned())
    }

    fn value(&mut self) -> Option<Py> {
        self.skip();
        let rest = &self.s[self.i..];
        for (word, v) in [("True", true), ("False", false)] {
            if rest.starts_with(word.as_bytes()) {
                self.i += word.len();
                return Some(Py::Bool(v));
            }
        }
        if !self.eat(b'(') {
            return self.string().map(Py::Str);
        }
        let mut items = Vec::new();
        loop {
            if self.eat(b')') {
                return Some(Py::Tuple(items));
            }
            self.skip();
            let digits = self.s[self.i..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let n = std::str::from_utf8(&self.s[self.i..self.i + digits])
                .ok()?
                .parse()
                .ok()?;
            self.i += digits;
            items.push(n);
            if !self.eat(b',') {
                self.expect(b')')?;
                return Some(Py::Tuple(items));
            }
        }
    }
}

/// An integer dtype: 1, 2, 4 or 8 bytes, signed or not, in either byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dtype {
    size: usize,
    signed: bool,
    big_endian: bool,
}

impl std::str::FromStr for Dtype {
    type Err = String;

    /// A dtype from its `descr` (`<i8`, `|u1`, `>u4`), or why it is refused.
    fn from_str(descr: &str) -> std::result::Result<Dtype, String> {
        let b = descr.as_bytes();
        let kind = b.get(1).copied().unwrap_or(0);
        let refused = match kind {
            b'f' | b'c' => Some("a floating-point dtype (convert it with .astype(np.int64))"),
            b'b' | b'?' => Some("a boolean dtype (convert it with .astype(np.int64))"),
            b'O' => Some("an object dtype"),
            b'U' | b'S' | b'a' => Some("a string dtype (string labels need the JSON format)"),
            _ => None,
        };
        let size = std::str::from_utf8(b.get(2..).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|n| matches!(n, 1 | 2 | 4 | 8));
        match (b.first(), kind, size, refused) {
            (Some(order @ (b'<' | b'>' | b'|' | b'=')), b'i' | b'u', Some(size), None)
                if size == 1 || *order != b'|' =>
            {
                Ok(Dtype {
                    size,
                    signed: kind == b'i',
                    big_endian: *order == b'>' || (*order == b'=' && cfg!(target_endian = "big")),
                })
            }
            (_, _, _, Some(why)) => Err(format!("dtype '{descr}' is {why}; expected an integer dtype")),
            _ => Err(format!(
                "dtype '{descr}' is not an integer dtype of 1, 2, 4 or 8 bytes (expected e.g. '<i8', '<u4', '|u1', '>i4')"
            )),
        }
    }
}

impl fmt::Display for Dtype {
    /// The `descr`: `<i8`, `|u1` (little-endian when written).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = match (self.size, self.big_endian) {
            (1, _) => '|',
            (_, true) => '>',
            (_, false) => '<',
        };
        let kind = if self.signed { 'i' } else { 'u' };
        write!(f, "{order}{kind}{}", self.size)
    }
}

impl Dtype {
    /// The value of one element (`bytes` has exactly `size` bytes).
    fn value(self, bytes: &[u8]) -> i128 {
        let fold = |v: u64, &b: &u8| v << 8 | u64::from(b);
        let raw = if self.big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        };
        let shift = 64 - 8 * self.size as u32;
        if self.signed {
            i128::from(((raw << shift) as i64) >> shift)
        } else {
            i128::from(raw)
        }
    }

    /// The smallest little-endian dtype holding every value in `min..=max`
    /// (unsigned when `min >= 0`); `None` beyond 64 bits.
    fn smallest(min: i128, max: i128) -> Option<Dtype> {
        let signed = min < 0;
        [1, 2, 4, 8].into_iter().find_map(|size| {
            let bits = 8 * size as u32;
            let (lo, hi) = if signed {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            } else {
                (0, (1i128 << bits) - 1)
            };
            (lo <= min && max <= hi).then_some(Dtype {
                size,
                signed,
                big_endian: false,
            })
        })
    }

    /// Appends `v` (which fits) in little-endian order.
    fn put(self, v: i128, out: &mut Vec<u8>) {
        out.extend_from_slice(&v.to_le_bytes()[..self.size]);
    }
}

/// Streams `count` elements of `dtype` from `r` (an entry positioned after its header)
/// through `each(index, value)`, then checks the entry has nothing more.
fn read_values(
    r: &mut impl Read,
    origin: &str,
    name: &str,
    dtype: Dtype,
    count: u64,
    mut each: impl FnMut(u64, i128) -> Result<()>,
) -> Result<()> {
    let err = |message: String| {
        Error::input_at(
            origin,
            InputKind::Syntax,
            Some(Location::Path(name.to_string())),
            format!("{name}: {message}"),
        )
    };
    let cannot = |e: std::io::Error| err(format!("cannot read the data: {e}"));
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    while done < count {
        let want = (count - done).min((CHUNK / dtype.size) as u64) as usize * dtype.size;
        let got = fill(r, &mut buf[..want]).map_err(cannot)?;
        for (k, element) in buf[..got - got % dtype.size]
            .chunks_exact(dtype.size)
            .enumerate()
        {
            each(done + k as u64, dtype.value(element))?;
        }
        done += (got / dtype.size) as u64;
        if got < want {
            return Err(err(format!(
                "the data ends after {done} of {count} values (the entry is truncated)"
            )));
        }
    }
    if fill(r, &mut [0u8; 1]).map_err(cannot)? != 0 {
        return Err(err("holds more data than its shape declares".into()));
    }
    Ok(())
}

/// An archive's entry name as shown in a message: as it is when it is plain (visible
/// ASCII), else Rust-quoted (control characters and line breaks escaped, so the
/// message stays on one line); cut at 80 characters either way.
fn quoted(name: &str) -> String {
    let cut: String = name.chars().take(80).collect();
    let more = if cut.len() < name.len() { "..." } else { "" };
    if cut.chars().all(|c| c.is_ascii_graphic()) {
        format!("{cut}{more}")
    } else {
        format!("{cut:?}{more}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `.npy` array with a hand-written header dictionary.
    fn npy_raw(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16 + 1).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(data);
        out
    }

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        npy_raw(
            &format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}"),
            data,
        )
    }

    /// A zip archive of `entries` (stored or deflated).
    fn zip_of(entries: &[(&str, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            let options = SimpleFileOptions::default().compression_method(method);
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Groups (3 tokens, 2 classes) and (2, 2), as `|u1` arrays.
    fn groups() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("tokens.npy", npy("|u1", false, "(2,)", &[3, 2])),
            ("classes.npy", npy("|u1", false, "(2,)", &[2, 2])),
        ]
    }

    /// An archive with the two groups, `x` and `y`.
    fn with(x: Vec<u8>, y: Vec<u8>) -> Vec<u8> {
        let mut entries = groups();
        entries.push(("x.npy", x));
        entries.push(("y.npy", y));
        zip_of(&entries, CompressionMethod::Stored)
    }

    fn read_bytes(bytes: &[u8]) -> Result<Instance> {
        from_reader(Cursor::new(bytes), "t.npz")
    }

    /// The error message reading `bytes`, checked to be one line of bad input.
    fn refusal(bytes: &[u8]) -> String {
        let e = read_bytes(bytes).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        let msg = e.to_string();
        assert!(msg.starts_with("t.npz: ") && !msg.contains('\n'), "{msg}");
        msg
    }

    const X: [[u32; 2]; 3] = [[0, 1], [2, 0], [1, 1]];
    const Y: [i64; 3] = [-5, 7, -5];

    /// `values` in `dtype` (little- or big-endian as it says).
    fn encode(dtype: &str, values: &[i64]) -> Vec<u8> {
        let d: Dtype = dtype.parse().unwrap();
        let mut out = Vec::new();
        for &v in values {
            let mut le = Vec::new();
            Dtype {
                big_endian: false,
                ..d
            }
            .put(v.into(), &mut le);
            if d.big_endian {
                le.reverse();
            }
            out.extend(le);
        }
        out
    }

    #[test]
    fn entry_names_are_quoted_on_one_line() {
        // Found by the npz fuzz target: a name with a line break broke the one-line rule.
        for (name, shown) in [
            ("bad\nname", r#""bad\nname": is not an .npy array entry"#),
            ("x\r.npy.bak", r#""x\r.npy.bak": is not"#),
            ("w.npy", "w: unknown array"),
        ] {
            let bytes = zip_of(&[(name, vec![1, 2, 3])], CompressionMethod::Stored);
            let e = read_bytes(&bytes).unwrap_err().to_string();
            assert!(!e.contains('\n') && !e.contains('\r'), "{e:?}");
            assert!(e.contains(shown), "{e:?} should contain {shown:?}");
        }
    }

    #[test]
    fn every_integer_dtype_reads_the_same() {
        let flat: Vec<i64> = X.iter().flatten().map(|&t| t.into()).collect();
        for descr in [
            "|u1", "|i1", "<u2", ">u2", "<i2", ">i2", "<u4", ">u4", "<i4", ">i4", "<u8", ">u8",
            "<i8", ">i8", "=i4",
        ] {
            let ydescr = descr.replace('u', "i");
            let inst = read_bytes(&with(
                npy(descr, false, "(3, 2)", &encode(descr, &flat)),
                npy(&ydescr, false, "(3,)", &encode(&ydescr, &Y)),
            ))
            .unwrap_or_else(|e| panic!("{descr}: {e}"));
            assert_eq!(inst.num_samples(), 3);
            for (s, row) in X.iter().enumerate() {
                assert_eq!(inst.x(s), row, "{descr}");
            }
            assert_eq!(inst.y(0), &Label::number("-5").unwrap());
            assert_eq!(inst.values().len(), 2);
            assert_eq!(inst.label_id(0), inst.label_id(2));
        }
    }

    #[test]
    fn fortran_order_is_transposed() {
        let columns: Vec<i64> = (0..2)
            .flat_map(|g| X.iter().map(move |r| r[g].into()))
            .collect();
        let inst = read_bytes(&with(
            npy("<i8", true, "(3, 2)", &encode("<i8", &columns)),
            npy("<i8", false, "(3,)", &encode("<i8", &Y)),
        ))
        .unwrap();
        for (s, row) in X.iter().enumerate() {
            assert_eq!(inst.x(s), row);
        }
    }

    #[test]
    fn round_trips_and_agrees_with_json() {
        let row: Vec<String> = (0..300).map(|t| (t % 2).to_string()).collect();
        let text = format!(
            r#"{{"groups":[{{"tokens":3,"classes":2}},{{"tokens":300,"classes":2}}],"samples":[{{"x":[2,299],"y":-1}},{{"x":[0,0],"y":9223372036854775807}},{{"x":[1,5],"y":2.0}}],"planted":{{"partition":[[0,1,1],[{}]]}}}}"#,
            row.join(",")
        );
        let json = Instance::from_json(text.as_bytes(), "t.json").unwrap();
        let bytes = to_bytes(&json, "t.json").unwrap();
        let back = read_bytes(&bytes).unwrap();
        // `2.0` is the integer 2, written back as `2`.
        assert_eq!(back.to_json(), text.replace("2.0", "2"));
        assert!(dropped(&back).is_empty());
        let mixed = Instance::from_json(text.replace("2.0", "1.5").as_bytes(), "m.json").unwrap();
        let e = to_bytes(&mixed, "m.json").unwrap_err().to_string();
        assert!(e.contains("samples[2].y = 1.5 is not an integer"), "{e}");
        let wide = text.replace("2.0", "18446744073709551615");
        let wide = Instance::from_json(wide.as_bytes(), "w.json").unwrap();
        // -1 and 2^64-1 together need more than 64 bits.
        let e = to_bytes(&wide, "w.json").unwrap_err().to_string();
        assert!(e.contains("no 64-bit integer dtype"), "{e}");
        let named = r#"{"groups":[{"tokens":1,"classes":1,"name":"a"}],"samples":[]}"#;
        let e = to_bytes(&Instance::from_json(named.as_bytes(), "n").unwrap(), "n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("n: groups[0].name: "), "{e}");
    }

    #[test]
    fn headers_are_parsed_strictly() {
        let h = parse_header("{'descr': '>u2', 'fortran_order': True, 'shape': (3, 4), }   \n")
            .unwrap();
        assert_eq!(h.shape, vec![3, 4]);
        assert!(h.fortran && h.dtype.big_endian && h.dtype.size == 2 && !h.dtype.signed);
        assert_eq!(
            parse_header(r#"{"descr":"|u1","shape":(),"fortran_order":False}"#)
                .unwrap()
                .shape,
            Vec::<u64>::new()
        );
        for (dict, want) in [
            ("", "not a dictionary"),
            ("{'descr': '<i8', 'fortran_order': False}", "needs 'shape'"),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                "not a string",
            ),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'x': True}",
                "unknown or repeated key 'x'",
            ),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'a\nb': True}",
                "unknown or repeated key \"a\\nb\"",
            ),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (-1,)}",
                "not a string",
            ),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                "not a string",
            ),
            (
                "{'descr': '<i8', 'fortran_order': 0, 'shape': (1,)}",
                "not a string",
            ),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)} x",
                "text after",
            ),
            (
                "{'descr': [('a', '<i8')], 'fortran_order': False, 'shape': (1,)}",
                "not a string",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
                "floating-point",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (1,)}",
                "object",
            ),
            (
                "{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}",
                "string dtype",
            ),
            (
                "{'descr': '|b1', 'fortran_order': False, 'shape': (1,)}",
                "boolean",
            ),
            (
                "{'descr': '<i16', 'fortran_order': False, 'shape': (1,)}",
                "1, 2, 4 or 8 bytes",
            ),
            (
                "{'descr': '|i4', 'fortran_order': False, 'shape': (1,)}",
                "1, 2, 4 or 8 bytes",
            ),
        ] {
            let e = parse_header(dict).unwrap_err();
            assert!(e.contains(want), "{dict}: {e}");
        }
    }

    #[test]
    fn hostile_arrays_are_refused_in_one_line() {
        let y = || npy("|u1", false, "(3,)", &[0, 1, 0]);
        let x = || npy("|u1", false, "(3, 2)", &[0, 1, 2, 0, 1, 1]);
        assert!(read_bytes(&with(x(), y())).is_ok());
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04 not really".to_vec(), "not an .npz file"),
            (Vec::new(), "not an .npz file"),
            // A 1e12-element array with a 100-byte payload: refused from the header.
            (
                with(npy("<i8", false, "(1000000000000, 2)", &[0; 100]), y()),
                "holds 100 bytes",
            ),
            (
                with(npy("<i8", false, "(3, 2)", &[0; 47]), y()),
                "48 bytes of data",
            ),
            (
                with(x(), b"\x93NUMPX\x01\x00".to_vec()),
                "y: not an .npy array",
            ),
            (with(x(), b"\x93NUMPY\x01".to_vec()), "y: not an .npy array"),
            (
                with(x(), b"\x93NUMPY\x04\x00\x10\x00{}".to_vec()),
                "version 4.0",
            ),
            (
                with(x(), b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}".to_vec()),
                "declares 4294967295 bytes",
            ),
            (
                with(x(), b"\x93NUMPY\x01\x00\x40\x00{}".to_vec()),
                "declares 64 bytes, more than the entry's",
            ),
            (
                with(x(), npy("<f8", false, "(3,)", &[0; 24])),
                "y: dtype '<f8' is a floating-point",
            ),
            (
                with(
                    npy("<i2", false, "(3, 2)", &encode("<i2", &[0, 1, -1, 0, 1, 1])),
                    y(),
                ),
                "x[1][0] = -1 is not a token id",
            ),
            (
                with(
                    npy(
                        "<u8",
                        true,
                        "(3, 2)",
                        &encode("<u8", &[0, 1, 2, 0, 1, 1 << 40]),
                    ),
                    y(),
                ),
                "x[2][1] = 1099511627776",
            ),
            (
                with(npy("|u1", false, "(3, 2)", &[0, 1, 3, 0, 1, 1]), y()),
                "invalid instance: samples[1].x[0] = 3 is out of range",
            ),
            (
                with(npy("|u1", false, "(3, 1)", &[0, 1, 1]), y()),
                "x: has shape (3, 1), expected (S, 2)",
            ),
            (
                with(npy("|u1", false, "(6,)", &[0; 6]), y()),
                "x: has shape (6,)",
            ),
            (
                with(x(), npy("|u1", false, "(2,)", &[0, 1])),
                "y: has shape (2,), expected (3,)",
            ),
            (
                with(x(), npy("|u1", false, "(3, 1)", &[0, 1, 1])),
                "y: has shape (3, 1)",
            ),
            (zip_of(&groups(), CompressionMethod::Stored), "x: missing"),
            (
                zip_of(&[("x.npy", x()), ("y.npy", y())], CompressionMethod::Stored),
                "tokens: missing",
            ),
        ];
        for (bytes, want) in cases {
            let msg = refusal(&bytes);
            assert!(msg.contains(want), "want {want:?}, got {msg}");
        }
        let mut entries = groups();
        entries.extend([("x.npy", x()), ("y.npy", y()), ("w.npy", y())]);
        assert!(refusal(&zip_of(&entries, CompressionMethod::Stored)).contains("w: unknown array"));
        entries.pop();
        entries.push(("planted_1.npy", npy("|u1", false, "(2,)", &[0, 1])));
        assert!(
            refusal(&zip_of(&entries, CompressionMethod::Stored)).contains("planted_0: missing")
        );
        entries.push(("planted_2.npy", npy("|u1", false, "(2,)", &[0, 1])));
        assert!(refusal(&zip_of(&entries, CompressionMethod::Stored))
            .contains("planted_2: there are 2 groups"));
        entries.pop();
        entries.push(("planted_0.npy", npy("|u1", false, "(3,)", &[0, 1, 2])));
        assert!(refusal(&zip_of(&entries, CompressionMethod::Stored))
            .contains("planted.partition group 0 token 2"));
        entries[0] = (
            "tokens.npy",
            npy("<i4", false, "(2,)", &encode("<i4", &[3, 0])),
        );
        assert!(refusal(&zip_of(&entries, CompressionMethod::Stored))
            .contains("tokens[1] = 0 must be an integer from 1"));
    }

    /// Sets the uncompressed size of every entry in the central directory (and
    /// local headers) of a zip archive made by [`zip_of`].
    fn lie_about_sizes(bytes: &mut [u8], size: u32) {
        for at in 0..bytes.len().saturating_sub(30) {
            match &bytes[at..at + 4] {
                b"PK\x01\x02" => bytes[at + 24..at + 28].copy_from_slice(&size.to_le_bytes()),
                b"PK\x03\x04" => bytes[at + 22..at + 26].copy_from_slice(&size.to_le_bytes()),
                _ => {}
            }
        }
    }

    #[test]
    fn declared_zip_sizes_that_lie_are_refused_cheaply() {
        // A deflated megabyte of zeros behind an honest 1e6-element header...
        let mut entries = groups();
        entries.push((
            "x.npy",
            npy("|u1", false, "(500000, 2)", &vec![0; 1_000_000]),
        ));
        entries.push(("y.npy", npy("|u1", false, "(500000,)", &vec![0; 500_000])));
        let honest = zip_of(&entries, CompressionMethod::Deflated);
        assert!(honest.len() < 10_000, "{}", honest.len());
        assert_eq!(read_bytes(&honest).unwrap().num_samples(), 500_000);
        // ... whose entry says it is 100 bytes, or 4 GB: refused before inflating.
        for size in [100, u32::MAX - 1] {
            let mut bomb = honest.clone();
            lie_about_sizes(&mut bomb, size);
            let msg = refusal(&bomb);
            assert!(msg.contains("bytes"), "{msg}");
        }
        // A stored entry whose sizes claim more than the file has.
        let mut stored = with(
            npy("|u1", false, "(3, 2)", &[0, 1, 2, 0, 1, 1]),
            npy("|u1", false, "(3,)", &[0, 1, 0]),
        );
        lie_about_sizes(&mut stored, 1 << 30);
        refusal(&stored);
    }
}
