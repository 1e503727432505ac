//! The nodes file of an OPC UA connector: which variables to watch, under what signal names.
//!
//! ```toml
//! source = "press7"            # the readings' source; default: the server's host
//! sampling_ms = 100            # default for every node
//! [[node]]
//! id = "ns=2;s=Press7.Temperature"
//! signal = "temperature"       # default: the node id
//! deadband = 0.5               # absolute; a change smaller than this is not reported
//! sampling_ms = 50
//! source = "press7-head"
//! ```

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use opcua::types::NodeId;
use serde::Deserialize;

use crate::error::{ConnectError, MappingError};

/// One variable watched.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedNode {
    pub id: NodeId,
    /// The id as the user wrote it, for messages.
    pub id_text: String,
    pub signal: String,
    pub source: String,
    pub sampling_ms: f64,
    /// Absolute deadband; `None` reports every change.
    pub deadband: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodesFile {
    source: Option<String>,
    sampling_ms: Option<toml::Spanned<f64>>,
    #[serde(default)]
    node: Vec<NodeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    id: toml::Spanned<String>,
    signal: Option<toml::Spanned<String>>,
    source: Option<String>,
    sampling_ms: Option<toml::Spanned<f64>>,
    deadband: Option<toml::Spanned<f64>>,
}

/// Sampling when neither the node nor the file says: the issue's 100 ms, a usual PLC scan.
pub const DEFAULT_SAMPLING_MS: f64 = 100.0;

/// Reads a nodes file; `default_source` names the readings when the file does not.
pub fn from_file(path: &Path, default_source: &str) -> Result<Vec<WatchedNode>, ConnectError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConnectError::ReadMapping {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse(&text, path, default_source)?)
}

/// Parses a nodes file; `path` only names the file in errors.
pub fn parse(
    text: &str,
    path: &Path,
    default_source: &str,
) -> Result<Vec<WatchedNode>, MappingError> {
    let error = |span: Option<std::ops::Range<usize>>, message: String| {
        MappingError::at(text, path, span, message)
    };
    let file: NodesFile =
        toml::from_str(text).map_err(|e| error(e.span(), e.message().to_string()))?;
    if file.node.is_empty() {
        return Err(error(
            None,
            "no [[node]]: name the variables to watch (`millwright opcua browse URL` lists them)"
                .into(),
        ));
    }
    let interval = |v: &toml::Spanned<f64>| {
        let ms = *v.get_ref();
        if ms.is_finite() && ms >= 0.0 {
            Ok(ms)
        } else {
            Err(error(
                Some(v.span()),
                format!("sampling_ms must be 0 or more, not {ms}"),
            ))
        }
    };
    let file_sampling = match &file.sampling_ms {
        Some(v) => interval(v)?,
        None => DEFAULT_SAMPLING_MS,
    };
    let file_source = file.source.unwrap_or_else(|| default_source.to_string());
    let mut signals = HashSet::new();
    let mut nodes = Vec::new();
    for node in file.node {
        let id_text = node.id.get_ref().trim().to_string();
        let id = NodeId::from_str(&id_text).map_err(|_| {
            error(
                Some(node.id.span()),
                format!("{id_text:?} is not a node id; write ns=2;s=Name, ns=2;i=42 or i=2258"),
            )
        })?;
        let signal = match &node.signal {
            Some(s) if s.get_ref().trim().is_empty() => {
                return Err(error(Some(s.span()), "the signal name is empty".into()))
            }
            Some(s) => s.get_ref().trim().to_string(),
            None => id_text.clone(),
        };
        let source = node.source.unwrap_or_else(|| file_source.clone());
        if !signals.insert((source.clone(), signal.clone())) {
            let span = node.signal.as_ref().map_or(node.id.span(), |s| s.span());
            return Err(error(
                Some(span),
                format!("signal {signal:?} of source {source:?} is named twice"),
            ));
        }
        let deadband = match &node.deadband {
            Some(d) if !(d.get_ref().is_finite() && *d.get_ref() >= 0.0) => {
                return Err(error(
                    Some(d.span()),
                    format!("deadband must be 0 or more, not {}", d.get_ref()),
                ))
            }
            Some(d) if *d.get_ref() > 0.0 => Some(*d.get_ref()),
            _ => None,
        };
        let sampling_ms = match &node.sampling_ms {
            Some(v) => interval(v)?,
            None => file_sampling,
        };
        nodes.push(WatchedNode {
            id,
            id_text,
            signal,
            source,
            sampling_ms,
            deadband,
        });
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<WatchedNode>, MappingError> {
        parse(text, Path::new("nodes.toml"), "plc")
    }

    #[test]
    fn nodes_with_defaults_and_overrides() {
        let nodes = parsed(
            "sampling_ms = 250\n[[node]]\nid = \"ns=2;s=Press7.Temperature\"\nsignal = \"temperature\"\n\
             deadband = 0.5\n[[node]]\nid = \"ns=2;i=42\"\nsource = \"press8\"\nsampling_ms = 50\n",
        )
        .unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].signal, "temperature");
        assert_eq!(nodes[0].source, "plc");
        assert_eq!(nodes[0].sampling_ms, 250.0);
        assert_eq!(nodes[0].deadband, Some(0.5));
        assert_eq!(nodes[1].signal, "ns=2;i=42");
        assert_eq!(nodes[1].source, "press8");
        assert_eq!(nodes[1].sampling_ms, 50.0);
        assert_eq!(nodes[1].id, NodeId::new(2, 42u32));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parsed("[[node]]\nid = \"ns=2;x=what\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 6), "{e}");
        assert!(e.to_string().contains("is not a node id"), "{e}");
        let e = parsed("[[node]]\nid = \"i=1\"\ndeadband = -1.0\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parsed(
            "[[node]]\nid = \"i=1\"\nsignal = \"t\"\n[[node]]\nid = \"i=2\"\nsignal = \"t\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.to_string().contains("named twice"), "{e}");
        let e = parsed("[[node]]\nid = \"i=1\"\ncolour = 3\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parsed("source = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("no [[node]]"), "{e}");
        let e = parsed("[[node]]\nid = \"i=1\"\nsampling_ms = nan\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }
}
