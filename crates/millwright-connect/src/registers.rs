//! The Modbus register map: which registers of a device are which signals, how their words become a value,
//! and the few requests that read them all.
//!
//! ```toml
//! unit = 1                      # Modbus unit (slave) id, default 1
//! source = "pump3"              # the readings' source column; default: the host
//! [[register]]
//! name = "discharge_pressure"   # the signal
//! kind = "holding"              # holding | input | coil | discrete
//! address = 100                 # 0-based protocol address
//! type = "f32"                  # u16 | i16 | u32 | i32 | f32 (coil, discrete: bool)
//! word_order = "big"            # big (high word first) | little, for 32-bit types
//! scale = 0.1                   # value = raw * scale + offset
//! offset = 0.0
//! unit_of_measure = "bar"
//! ```

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConnectError, MappingError};
use crate::mapping::line_column;

/// The most registers one read may ask for (Modbus application protocol, function codes 3 and 4).
pub const MAX_REGISTERS_PER_READ: u16 = 125;
/// The most coils or discrete inputs one read may ask for (function codes 1 and 2).
pub const MAX_BITS_PER_READ: u16 = 2000;

/// The four Modbus data tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegisterKind {
    Coil,
    Discrete,
    Holding,
    Input,
}

impl RegisterKind {
    fn parse(text: &str) -> Option<RegisterKind> {
        Some(match text {
            "holding" => RegisterKind::Holding,
            "input" => RegisterKind::Input,
            "coil" => RegisterKind::Coil,
            "discrete" => RegisterKind::Discrete,
            _ => return None,
        })
    }

    /// Coils and discrete inputs are single bits.
    pub fn is_bits(self) -> bool {
        matches!(self, RegisterKind::Coil | RegisterKind::Discrete)
    }

    fn max_per_read(self) -> u16 {
        if self.is_bits() {
            MAX_BITS_PER_READ
        } else {
            MAX_REGISTERS_PER_READ
        }
    }
}

impl fmt::Display for RegisterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegisterKind::Holding => "holding",
            RegisterKind::Input => "input",
            RegisterKind::Coil => "coil",
            RegisterKind::Discrete => "discrete",
        })
    }
}

/// How the raw words of a register are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
}

impl ValueType {
    fn parse(text: &str) -> Option<ValueType> {
        Some(match text {
            "u16" => ValueType::U16,
            "i16" => ValueType::I16,
            "u32" => ValueType::U32,
            "i32" => ValueType::I32,
            "f32" => ValueType::F32,
            "bool" => ValueType::Bool,
            _ => return None,
        })
    }

    /// Registers (or bits) the value takes.
    pub fn width(self) -> u16 {
        match self {
            ValueType::U32 | ValueType::I32 | ValueType::F32 => 2,
            _ => 1,
        }
    }
}

/// Which word of a 32-bit value comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WordOrder {
    /// High word first (the Modbus convention).
    #[default]
    Big,
    Little,
}

/// One signal of the device.
#[derive(Debug, Clone, PartialEq)]
pub struct Register {
    pub name: String,
    pub kind: RegisterKind,
    pub address: u16,
    pub value_type: ValueType,
    pub word_order: WordOrder,
    pub scale: f64,
    pub offset: f64,
    pub unit_of_measure: Option<String>,
}

impl Register {
    /// The value of this register from its words (`raw * scale + offset`).
    pub fn value(&self, words: &[u16]) -> f64 {
        decode(words, self.value_type, self.word_order) * self.scale + self.offset
    }

    fn span(&self) -> Range<u32> {
        let start = u32::from(self.address);
        start..start + u32::from(self.value_type.width())
    }
}

/// The raw value of a register's words (a bool's one word is 0 or 1). `words` holds at least the type's
/// width.
pub fn decode(words: &[u16], value_type: ValueType, order: WordOrder) -> f64 {
    let pair = || {
        let (high, low) = match order {
            WordOrder::Big => (words[0], words[1]),
            WordOrder::Little => (words[1], words[0]),
        };
        (u32::from(high) << 16) | u32::from(low)
    };
    match value_type {
        ValueType::U16 | ValueType::Bool => f64::from(words[0]),
        ValueType::I16 => f64::from(words[0] as i16),
        ValueType::U32 => f64::from(pair()),
        ValueType::I32 => f64::from(pair() as i32),
        ValueType::F32 => f64::from(f32::from_bits(pair())),
    }
}

/// One read request: `count` registers (or bits) of one kind from `start`, and the registers it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRequest {
    pub kind: RegisterKind,
    pub start: u16,
    pub count: u16,
    /// Indices into [`RegisterMap::registers`].
    pub registers: Vec<usize>,
}

impl ReadRequest {
    /// `holding 100..102`: the kind and the half-open address range.
    pub fn describe(&self) -> String {
        format!(
            "{} {}..{}",
            self.kind,
            self.start,
            u32::from(self.start) + u32::from(self.count)
        )
    }
}

/// A device's register map.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterMap {
    pub unit: u8,
    pub source: Option<String>,
    pub registers: Vec<Register>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    #[serde(default = "default_unit")]
    unit: u8,
    source: Option<String>,
    #[serde(default)]
    register: Vec<RegisterFile>,
}

fn default_unit() -> u8 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFile {
    name: Spanned<String>,
    kind: Spanned<String>,
    address: Spanned<u16>,
    #[serde(rename = "type")]
    value_type: Option<Spanned<String>>,
    word_order: Option<Spanned<String>>,
    scale: Option<Spanned<f64>>,
    offset: Option<Spanned<f64>>,
    unit_of_measure: Option<String>,
}

impl RegisterMap {
    pub fn from_file(path: &Path) -> Result<RegisterMap, ConnectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConnectError::ReadMapping {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(RegisterMap::parse(&text, path)?)
    }

    /// Parses a register map; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<RegisterMap, MappingError> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| {
            MappingError::at(text, path, span, message)
        };
        let file: MapFile =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().to_string()))?;
        if file.register.is_empty() {
            return Err(error(
                None,
                "no [[register]]: say which registers are which signals".into(),
            ));
        }
        // Each register with where its name is, to point at the first of two with one name.
        let mut registers: Vec<(Register, usize)> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for entry in file.register {
            let register = parse_register(&entry).map_err(|(span, m)| error(Some(span), m))?;
            if let Some(first) = names.insert(register.name.clone(), registers.len()) {
                let (line, _) = line_column(text, registers[first].1);
                return Err(error(
                    Some(entry.name.span()),
                    format!(
                        "signal {:?} is named twice (first at line {line})",
                        register.name
                    ),
                ));
            }
            registers.push((register, entry.name.span().start));
        }
        Ok(RegisterMap {
            unit: file.unit,
            source: file.source,
            registers: registers.into_iter().map(|(r, _)| r).collect(),
        })
    }

    /// The reads that cover every register: registers of one kind that touch or overlap share a read, up to
    /// the protocol's limit per read; a gap starts a new read (an unmapped address may not exist).
    pub fn requests(&self) -> Vec<ReadRequest> {
        let mut order: Vec<usize> = (0..self.registers.len()).collect();
        order.sort_by_key(|&i| (self.registers[i].kind, self.registers[i].address));
        let mut requests: Vec<ReadRequest> = Vec::new();
        for i in order {
            let register = &self.registers[i];
            let span = register.span();
            if let Some(last) = requests.last_mut() {
                let end = u32::from(last.start) + u32::from(last.count);
                let merged = span.end.max(end) - u32::from(last.start);
                if last.kind == register.kind
                    && span.start <= end
                    && merged <= u32::from(register.kind.max_per_read())
                {
                    last.count = merged as u16;
                    last.registers.push(i);
                    continue;
                }
            }
            requests.push(ReadRequest {
                kind: register.kind,
                start: register.address,
                count: register.value_type.width(),
                registers: vec![i],
            });
        }
        requests
    }
}

type Located = (Range<usize>, String);

fn parse_register(entry: &RegisterFile) -> Result<Register, Located> {
    let kind = RegisterKind::parse(entry.kind.get_ref()).ok_or_else(|| {
        (
            entry.kind.span(),
            format!(
                "unknown register kind {:?}: use holding, input, coil or discrete",
                entry.kind.get_ref()
            ),
        )
    })?;
    let value_type = match &entry.value_type {
        None if kind.is_bits() => ValueType::Bool,
        None => ValueType::U16,
        Some(t) => {
            let parsed = ValueType::parse(t.get_ref()).ok_or_else(|| {
                (
                    t.span(),
                    format!(
                        "unknown type {:?}: use u16, i16, u32, i32, f32 (or bool for coils and discrete inputs)",
                        t.get_ref()
                    ),
                )
            })?;
            if kind.is_bits() != (parsed == ValueType::Bool) {
                let message = if kind.is_bits() {
                    format!(
                        "a {kind} is one bit: its type is bool, not {:?}",
                        t.get_ref()
                    )
                } else {
                    format!("a {kind} register holds words: bool is for coils and discrete inputs")
                };
                return Err((t.span(), message));
            }
            parsed
        }
    };
    let word_order = match &entry.word_order {
        None => WordOrder::Big,
        Some(w) if value_type.width() == 1 => {
            return Err((
                w.span(),
                "word_order applies to 32-bit types (u32, i32, f32) only".into(),
            ))
        }
        Some(w) => match w.get_ref().as_str() {
            "big" => WordOrder::Big,
            "little" => WordOrder::Little,
            other => {
                return Err((
                    w.span(),
                    format!("unknown word_order {other:?}: use big or little"),
                ))
            }
        },
    };
    let address = *entry.address.get_ref();
    if u32::from(address) + u32::from(value_type.width()) > 65536 {
        return Err((
            entry.address.span(),
            format!("a 32-bit value at {address} runs past the last address, 65535"),
        ));
    }
    let finite = |v: &Option<Spanned<f64>>, default: f64, what: &str| match v {
        None => Ok(default),
        Some(v) if v.get_ref().is_finite() => Ok(*v.get_ref()),
        Some(v) => Err((v.span(), format!("{what} must be a finite number"))),
    };
    Ok(Register {
        name: entry.name.get_ref().clone(),
        kind,
        address,
        value_type,
        word_order,
        scale: finite(&entry.scale, 1.0, "scale")?,
        offset: finite(&entry.offset, 0.0, "offset")?,
        unit_of_measure: entry.unit_of_measure.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RegisterMap, MappingError> {
        RegisterMap::parse(text, Path::new("regs.toml"))
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_full_map_parses_with_defaults() {
        let map = parse(
            "source = \"pump3\"\n[[register]]\nname = \"p\"\nkind = \"holding\"\naddress = 100\ntype = \"f32\"\nword_order = \"little\"\nscale = 0.1\noffset = -1.0\nunit_of_measure = \"bar\"\n[[register]]\nname = \"run\"\nkind = \"coil\"\naddress = 0\n",
        )
        .unwrap();
        assert_eq!(map.unit, 1);
        assert_eq!(map.source.as_deref(), Some("pump3"));
        let p = &map.registers[0];
        assert_eq!(
            (p.kind, p.address, p.value_type, p.word_order),
            (
                RegisterKind::Holding,
                100,
                ValueType::F32,
                WordOrder::Little
            )
        );
        assert_eq!((p.scale, p.offset), (0.1, -1.0));
        assert_eq!(p.unit_of_measure.as_deref(), Some("bar"));
        let run = &map.registers[1];
        assert_eq!(
            (run.value_type, run.scale, run.offset),
            (ValueType::Bool, 1.0, 0.0)
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let head = "[[register]]\nname = \"a\"\n";
        assert_eq!(
            error(&format!("{head}kind = \"hold\"\naddress = 1\n")),
            "regs.toml:3:8: unknown register kind \"hold\": use holding, input, coil or discrete"
        );
        let err = error(&format!(
            "{head}kind = \"input\"\naddress = 1\ntype = \"f64\"\n"
        ));
        assert!(
            err.starts_with("regs.toml:5:8: unknown type \"f64\""),
            "{err}"
        );
        assert_eq!(
            error(&format!(
                "{head}kind = \"holding\"\naddress = 1\nword_order = \"big\"\n"
            )),
            "regs.toml:5:14: word_order applies to 32-bit types (u32, i32, f32) only"
        );
        let err = error(&format!(
            "{head}kind = \"coil\"\naddress = 1\ntype = \"u16\"\n"
        ));
        assert!(err.starts_with("regs.toml:5:8: a coil is one bit"), "{err}");
        let err = error(&format!("{head}kind = \"holding\"\naddress = 70000\n"));
        assert!(err.starts_with("regs.toml:4:11:"), "{err}");
        let err = error(&format!(
            "{head}kind = \"holding\"\naddress = 1\n[[register]]\nname = \"a\"\nkind = \"input\"\naddress = 1\n"
        ));
        assert_eq!(
            err,
            "regs.toml:6:8: signal \"a\" is named twice (first at line 2)"
        );
        assert!(error("unit = 1\n").contains("no [[register]]"));
        let err = error(&format!(
            "{head}kind = \"holding\"\naddress = 1\ncolour = 3\n"
        ));
        assert!(
            err.starts_with("regs.toml:5:1: unknown field `colour`"),
            "{err}"
        );
    }

    #[test]
    fn decodes_every_type_in_both_word_orders() {
        let f = 3.5f32.to_bits();
        let (hi, lo) = ((f >> 16) as u16, f as u16);
        assert_eq!(decode(&[hi, lo], ValueType::F32, WordOrder::Big), 3.5);
        assert_eq!(decode(&[lo, hi], ValueType::F32, WordOrder::Little), 3.5);
        assert_eq!(
            decode(&[0x0001, 0x1170], ValueType::U32, WordOrder::Big),
            70000.0
        );
        assert_eq!(
            decode(&[0x1170, 0x0001], ValueType::U32, WordOrder::Little),
            70000.0
        );
        let n = (-100_000i32) as u32;
        let (hi, lo) = ((n >> 16) as u16, n as u16);
        assert_eq!(
            decode(&[hi, lo], ValueType::I32, WordOrder::Big),
            -100_000.0
        );
        assert_eq!(
            decode(&[lo, hi], ValueType::I32, WordOrder::Little),
            -100_000.0
        );
        assert_eq!(decode(&[65531], ValueType::I16, WordOrder::Big), -5.0);
        assert_eq!(decode(&[65531], ValueType::U16, WordOrder::Big), 65531.0);
        let r = Register {
            name: "p".into(),
            kind: RegisterKind::Holding,
            address: 0,
            value_type: ValueType::U16,
            word_order: WordOrder::Big,
            scale: 0.1,
            offset: 2.0,
            unit_of_measure: None,
        };
        assert!((r.value(&[1234]) - 125.4).abs() < 1e-9);
    }

    #[test]
    fn contiguous_registers_share_reads_up_to_the_limit() {
        let mut text = String::new();
        let mut add = |name: String, kind: &str, address: u32, ty: &str| {
            text.push_str(&format!(
                "[[register]]\nname = \"{name}\"\nkind = \"{kind}\"\naddress = {address}\ntype = \"{ty}\"\n"
            ));
        };
        add("a".into(), "holding", 10, "f32");
        add("b".into(), "holding", 12, "u16");
        add("c".into(), "holding", 11, "u16"); // overlaps a
        add("d".into(), "holding", 20, "u16"); // after a gap
        add("e".into(), "input", 13, "u16"); // same addresses, other table
        for i in 0..130 {
            add(format!("w{i}"), "input", 100 + i, "u16");
        }
        for i in 0..2001 {
            add(format!("c{i}"), "coil", i, "bool");
        }
        let map = parse(&text).unwrap();
        let reads: Vec<String> = map.requests().iter().map(ReadRequest::describe).collect();
        assert_eq!(
            reads,
            [
                "coil 0..2000",
                "coil 2000..2001",
                "holding 10..13",
                "holding 20..21",
                "input 13..14",
                "input 100..225",
                "input 225..230"
            ]
        );
        let first_holding = &map.requests()[2];
        assert_eq!(first_holding.registers, vec![0, 2, 1]);
    }

    #[test]
    fn the_documented_map_parses() {
        let doc = include_str!("../../../docs/connect.md");
        let section = &doc[doc
            .find("## Modbus TCP")
            .expect("docs/connect.md has a Modbus section")..];
        let start = section.find("```toml\n").expect("with a TOML example") + 8;
        let end = start + section[start..].find("```").unwrap();
        let map = parse(&section[start..end]).unwrap();
        assert_eq!(map.registers.len(), 2);
        assert_eq!(map.registers[0].value_type, ValueType::F32);
        assert_eq!(map.registers[1].value_type, ValueType::Bool);
    }
}
