//! Client selectors: `"group"`, `"group[7]"`, `"group[0..10]"`, `"*"`.

use super::validate::suggestion;
use super::*;

/// A group as selectors see it: its name and, if valid, its client count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupName {
    pub name: String,
    pub count: Option<u32>,
}

/// Reads group names and counts leniently from the raw `clients` array.
pub(super) fn group_names(clients: Option<&Value>) -> Vec<GroupName> {
    let Some(items) = clients.and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|g| GroupName {
            name: g
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            count: g
                .get("count")
                .and_then(Value::as_u64)
                .and_then(|c| u32::try_from(c).ok())
                .filter(|c| *c > 0),
        })
        .collect()
}

/// Resolves a client selector: `"group"`, `"group[7]"`, `"group[0..10]"` (half-open) or
/// `"*"`. A selector that names nothing is an error.
pub fn select(text: &str, groups: &[GroupName]) -> Result<Vec<ClientRange>, String> {
    if text == "*" {
        return Ok(groups
            .iter()
            .enumerate()
            .map(|(i, g)| ClientRange {
                group: i,
                start: 0,
                end: g.count.unwrap_or(u32::MAX),
            })
            .collect());
    }
    let (name, index) = match text.find('[') {
        Some(open) => {
            let Some(inner) = text[open + 1..].strip_suffix(']') else {
                return Err(
                    "a selector is \"group\", \"group[i]\", \"group[a..b]\" or \"*\"".to_string(),
                );
            };
            (&text[..open], Some(inner))
        }
        None => (text, None),
    };
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let Some(group) = groups.iter().position(|g| g.name == name) else {
        return Err(format!(
            "no client group named \"{name}\" (groups: {}){}",
            names.join(", "),
            suggestion(name, &names)
        ));
    };
    let count = groups[group].count;
    let (start, end) = match index {
        None => (0, count.unwrap_or(u32::MAX)),
        Some(inner) => {
            let parse = |s: &str| -> Result<u32, String> {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("\"{s}\" is not a client index"))
            };
            match inner.split_once("..") {
                Some((a, b)) => (parse(a)?, parse(b)?),
                None => {
                    let i = parse(inner)?;
                    (i, i.saturating_add(1))
                }
            }
        }
    };
    if start >= end {
        return Err(format!(
            "selects no client: the range {start}..{end} is empty"
        ));
    }
    if let Some(count) = count.filter(|c| end > *c) {
        return Err(format!(
            "selects clients beyond the group: \"{name}\" has {count} clients (indices 0..{count})"
        ));
    }
    Ok(vec![ClientRange { group, start, end }])
}
