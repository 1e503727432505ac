//! Browsing a server's address space, to find the node ids a nodes file names.

use opcua::client::Session;
use opcua::types::{
    AttributeId, BrowseDescription, BrowseDirection, BrowseResultMask, NodeClass, NodeClassMask,
    NodeId, ObjectId, ReadValueId, ReferenceTypeId, TimestampsToReturn,
};
use serde::Serialize;

use crate::error::ConnectError;

/// One node found, with its depth below the start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrowsedNode {
    pub depth: usize,
    pub node_id: String,
    pub browse_name: String,
    pub display_name: String,
    /// Object, Variable, Method…
    pub class: String,
    /// For variables: the current value, as text.
    pub value: Option<String>,
}

/// References asked for per node; the server pages the rest through continuation points.
const REFERENCES_PER_NODE: u32 = 1000;

/// Walks the hierarchy from `start` (default: the Objects folder) down to `depth` levels.
pub async fn browse(
    session: &Session,
    start: Option<NodeId>,
    depth: usize,
) -> Result<Vec<BrowsedNode>, ConnectError> {
    let start = start.unwrap_or_else(|| ObjectId::ObjectsFolder.into());
    let mut found = Vec::new();
    let mut level = vec![start];
    for d in 1..=depth.max(1) {
        let mut next = Vec::new();
        for parent in level {
            for node in children(session, &parent).await? {
                if node.0 != NodeClass::Variable {
                    next.push(node.1.clone());
                }
                found.push((d, node));
            }
        }
        level = next;
    }
    let values = variable_values(session, &found).await?;
    Ok(found
        .into_iter()
        .zip(values)
        .map(
            |((depth, (class, id, browse_name, display_name)), value)| BrowsedNode {
                depth,
                node_id: id.to_string(),
                browse_name,
                display_name,
                class: format!("{class:?}"),
                value,
            },
        )
        .collect())
}

type Child = (NodeClass, NodeId, String, String);

fn service(what: &str, e: impl std::fmt::Display) -> ConnectError {
    ConnectError::OpcuaService {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

async fn children(session: &Session, parent: &NodeId) -> Result<Vec<Child>, ConnectError> {
    let description = BrowseDescription {
        node_id: parent.clone(),
        browse_direction: BrowseDirection::Forward,
        reference_type_id: ReferenceTypeId::HierarchicalReferences.into(),
        include_subtypes: true,
        node_class_mask: NodeClassMask::all().bits(),
        result_mask: BrowseResultMask::All as u32,
    };
    let what = format!("browsing {parent}");
    let mut results = session
        .browse(&[description], REFERENCES_PER_NODE, None)
        .await
        .map_err(|e| service(&what, e))?;
    let mut out = Vec::new();
    while let Some(result) = results.pop() {
        if !result.status_code.is_good() {
            return Err(service(&what, result.status_code));
        }
        for r in result.references.into_iter().flatten() {
            out.push((
                r.node_class,
                r.node_id.node_id,
                r.browse_name.name.to_string(),
                r.display_name.text.to_string(),
            ));
        }
        if result.continuation_point.is_null() {
            break;
        }
        results = session
            .browse_next(false, &[result.continuation_point])
            .await
            .map_err(|e| service(&what, e))?;
    }
    Ok(out)
}

async fn variable_values(
    session: &Session,
    found: &[(usize, Child)],
) -> Result<Vec<Option<String>>, ConnectError> {
    let variables: Vec<ReadValueId> = found
        .iter()
        .filter(|(_, c)| c.0 == NodeClass::Variable)
        .map(|(_, c)| ReadValueId {
            node_id: c.1.clone(),
            attribute_id: AttributeId::Value as u32,
            ..Default::default()
        })
        .collect();
    let mut values = Vec::new();
    for chunk in variables.chunks(REFERENCES_PER_NODE as usize) {
        let read = session
            .read(chunk, TimestampsToReturn::Neither, 0.0)
            .await
            .map_err(|e| service("reading the variables found", e))?;
        values.extend(read);
    }
    let mut values = values.into_iter();
    Ok(found
        .iter()
        .map(|(_, c)| {
            (c.0 == NodeClass::Variable)
                .then(|| values.next())
                .flatten()
                .map(|v| match v.value {
                    Some(value) => value.to_string(),
                    None => v.status.map_or(String::new(), |s| s.to_string()),
                })
        })
        .collect())
}
