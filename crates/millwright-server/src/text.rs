//! Plain-text views of the server's tables for the command line (`millwright token list`, `millwright
//! audit`): the front door prints them; `--json` prints the records themselves.

use std::fmt::Write;

use crate::store::{AuditEntry, Role, TokenInfo};

const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

/// One line per token: name, role, created, revoked (never the secret, which is not stored).
pub fn tokens(tokens: &[TokenInfo]) -> String {
    if tokens.is_empty() {
        return "no tokens (make one with `millwright token create --name NAME --role ROLE`)\n"
            .to_owned();
    }
    let mut out = format!("{:<24} {:<9} {:<26} revoked\n", "name", "role", "created");
    for t in tokens {
        let revoked = t
            .revoked
            .map_or_else(|| "-".to_owned(), |r| r.format(TIME).to_string());
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:<26} {revoked}",
            t.name,
            t.role.as_str(),
            t.created.format(TIME).to_string(),
        );
    }
    out
}

/// One line per audited request, newest first: time, token, role, method, path and status.
pub fn audit(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "the audit log is empty\n".to_owned();
    }
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "{}  {:<16} {:<8} {:<6} {} -> {}",
            e.time.format("%Y-%m-%d %H:%M:%S"),
            e.token,
            e.role.map_or("-", Role::as_str),
            e.method,
            e.target,
            e.status
        );
    }
    out
}

/// What `millwright serve` prints once it listens: the addresses, and the first admin token when the
/// server just made one (shown only this once).
pub fn listening(base: &str, first_token: Option<&crate::store::NewToken>) -> String {
    let mut out = format!(
        "millwright serve: listening on {base}\n  dashboard: {base}/ui/\n  API docs:  {base}/api/docs/\n"
    );
    if let Some(t) = first_token {
        out.push_str(&format!(
            "  sign in with the admin token {} (made now, as the home had no token; it is shown only \
             once: keep it, or make more with `millwright token create`)\n",
            t.token
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_line_up_and_say_when_empty() {
        assert!(tokens(&[]).starts_with("no tokens"));
        assert_eq!(audit(&[]), "the audit log is empty\n");
        let created = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let listed = tokens(&[TokenInfo {
            name: "mes".to_owned(),
            role: Role::Operator,
            created,
            revoked: None,
        }]);
        let lines: Vec<&str> = listed.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].find("role"), lines[1].find("operator"));
        assert!(lines[1].contains("2026-12-01 10:00:00 UTC") && lines[1].ends_with(" -"));
    }
}
