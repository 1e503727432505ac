//! Where in a line file's text an error lies: the line and column (1-based, columns in characters) of a
//! TOML syntax or field error (the parser's span), or of the field a validation error names
//! (`stations[1] (rough-mill).scrap`), so an editor can point at it.

use toml::de::{DeTable, DeValue};

use crate::error::TwinError;

/// The 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

impl TwinError {
    /// Where this error lies in `text`, the line file it came from: `(line, column)`, or `None` for an
    /// error that is not about one place in the file.
    pub fn position(&self, text: &str) -> Option<(usize, usize)> {
        let offset = match self {
            TwinError::Syntax { source, .. } => source.span()?.start,
            TwinError::Invalid { field, .. }
            | TwinError::Distribution { field, .. }
            | TwinError::LakeColumnNotLoaded { field, .. } => field_offset(text, field)?,
            TwinError::TooMany { section, .. } => field_offset(text, &section.to_string())?,
            _ => return None,
        };
        Some(line_column(text, offset))
    }

    /// The error's own words without the file name in front (the parser's message for a syntax error).
    pub fn bare_message(&self) -> String {
        match self {
            TwinError::Syntax { source, .. } => source.message().trim().to_owned(),
            TwinError::Invalid { field, message, .. } => format!("{field}: {message}"),
            TwinError::Distribution { field, source, .. } => format!("{field}: {source}"),
            other => {
                let text = other.to_string();
                match other {
                    TwinError::TooMany { path, .. }
                    | TwinError::LakeColumnNotLoaded { path, .. } => {
                        let prefix = format!("{}: ", path.display());
                        text.strip_prefix(&prefix)
                            .map(str::to_owned)
                            .unwrap_or(text)
                    }
                    _ => text,
                }
            }
        }
    }
}

/// One step of a field path: a key and, for an array, an index.
fn steps(field: &str) -> Vec<(String, Option<usize>)> {
    // Split at dots outside the parenthesised station names.
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0usize, String::new());
    for c in field.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| {
            let p = p.trim();
            match p.split_once('[') {
                Some((key, rest)) => (
                    key.trim().to_owned(),
                    rest.trim_end_matches(']').trim().parse().ok(),
                ),
                None => (p.to_owned(), None),
            }
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// The byte offset of the deepest part of `field` found in `text` (the key, where there is one).
fn field_offset(text: &str, field: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?.into_inner();
    let mut table: Option<&DeTable> = Some(&root);
    let mut found = None;
    for (key, index) in steps(field) {
        let Some(t) = table else { break };
        let Some((k, v)) = t.iter().find(|(k, _)| k.get_ref().as_ref() == key) else {
            break;
        };
        found = Some(k.span().start);
        let mut value = v;
        if let Some(i) = index {
            match value.get_ref() {
                DeValue::Array(items) => match items.get(i) {
                    Some(item) => {
                        value = item;
                        if !matches!(item.get_ref(), DeValue::Table(_)) {
                            found = Some(item.span().start);
                        }
                    }
                    None => break,
                },
                _ => break,
            }
        }
        table = match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    found
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Line;

    use super::*;

    #[test]
    fn columns_count_characters_and_lines_start_at_one() {
        assert_eq!(line_column("a = 1\nb = x", 10), (2, 5));
        assert_eq!(line_column("# 产线\nname", 9), (2, 1));
        assert_eq!(line_column("# 产线 x", 9), (1, 6));
        assert_eq!(line_column("", 5), (1, 1));
    }

    #[test]
    fn a_syntax_error_points_at_its_place() {
        let text = "name = \"l\"\ntime_unit = \"min\"\nbuffers = [1,\n";
        let err = Line::parse(text, Path::new("l.toml")).unwrap_err();
        let (line, _) = err.position(text).expect("no position");
        assert!(line >= 3, "{line}");
        assert!(!err.bare_message().contains("l.toml"));
    }

    #[test]
    fn a_validation_error_points_at_its_field() {
        let text = crate::EXAMPLE_LINE.replacen("scrap = 0.005", "scrap = 1.5", 1);
        let err = Line::parse(&text, Path::new("l.toml")).unwrap_err();
        assert!(matches!(err, TwinError::Invalid { .. }), "{err}");
        let (line, column) = err.position(&text).expect("no position");
        let want = text
            .lines()
            .position(|l| l.contains("scrap = 1.5"))
            .unwrap()
            + 1;
        assert_eq!((line, column), (want, 1), "{err}");
    }

    #[test]
    fn field_paths_split_outside_station_names() {
        assert_eq!(
            steps("stations[1] (rough.mill).ai4i.repair"),
            vec![
                ("stations".to_owned(), Some(1)),
                ("ai4i".to_owned(), None),
                ("repair".to_owned(), None)
            ]
        );
    }
}
