//! README's walkthroughs, run as a newcomer runs them: every `millwright` line of the `sh` blocks under
//! "Walkthrough", verbatim and in order, in an empty folder. Placeholders (`<twin-run-id>`, `<run-a>`,
//! `<run-b>`) take the ids the earlier commands printed. The only file made beforehand is what the README
//! points to elsewhere: `clean.toml` is docs/cleaning.md's example, as written there.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The command lines of the walkthrough sections: continuation lines joined, comments dropped.
fn walkthrough_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut in_walkthrough, mut in_block) = (false, false);
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("## ") {
            in_walkthrough = line.starts_with("## Walkthrough");
        } else if line.starts_with("```") {
            in_block = in_walkthrough && !in_block && line.trim() == "```sh";
        } else if in_block {
            let code = strip_comment(line);
            match code.trim_end().strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(code.trim_end());
                    lines.push(std::mem::take(&mut pending).trim().to_owned());
                }
            }
        }
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// The line without a trailing `# comment` (a `#` outside quotes that starts a word).
fn strip_comment(line: &str) -> &str {
    let (mut quote, mut prev_space) = (None, true);
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if prev_space => return &line[..i],
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// Shell words of one line, split into commands at `;`: quotes and `\"` inside double quotes.
fn commands(line: &str) -> Vec<Vec<String>> {
    let (mut commands, mut words, mut word) = (Vec::new(), Vec::new(), None::<String>);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\')) => {
                            w.push(chars.next().unwrap());
                        }
                        c => w.push(c),
                    }
                }
            }
            ';' => {
                words.extend(word.take());
                commands.push(std::mem::take(&mut words));
            }
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word.take());
    commands.push(words);
    commands.retain(|c| !c.is_empty());
    commands
}

/// The newest ids a placeholder can stand for, read through the binary's own `--json` listings.
fn placeholder(dir: &Path, name: &str) -> String {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_millwright"))
            .current_dir(dir)
            .env_remove("MILLWRIGHT_HOME")
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    match name {
        "<twin-run-id>" => json(&["twin", "runs"])
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["optimization"] == false && r["policies"].as_array().unwrap().len() > 1)
            .expect("a comparison run")["run_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        "<run-a>" | "<run-b>" => {
            let runs = json(&["runs"]);
            let index = usize::from(name == "<run-a>");
            runs["runs"][index]["id"].as_str().unwrap().to_owned()
        }
        other => panic!("README placeholder {other} has no rule in this test"),
    }
}

fn clean_toml_example() -> String {
    let doc = std::fs::read_to_string(repo().join("docs/cleaning.md")).unwrap();
    let start = doc
        .find("```toml\n")
        .expect("docs/cleaning.md has a TOML example")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

#[test]
fn every_walkthrough_command_runs_verbatim() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = walkthrough_lines(&readme);
    assert!(lines.len() > 20, "walkthrough lines found: {lines:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("clean.toml"), clean_toml_example()).unwrap();
    let mut ran = 0;
    for line in &lines {
        for words in commands(line) {
            if words[0] != "millwright" {
                continue; // other tools (tensorboard) are documented, not run here
            }
            let args: Vec<String> = words[1..]
                .iter()
                .map(|w| {
                    if w.starts_with('<') && w.ends_with('>') {
                        placeholder(dir.path(), w)
                    } else {
                        w.clone()
                    }
                })
                .collect();
            let out = Command::new(env!("CARGO_BIN_EXE_millwright"))
                .current_dir(dir.path())
                .env_remove("MILLWRIGHT_HOME")
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "README line failed: {line}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 25, "{ran} commands ran");
    assert!(dir.path().join("millwright-home/reports").is_dir());
}

#[test]
fn shell_words_follow_the_shell() {
    assert_eq!(
        commands(r#"millwright sql 'SELECT "Type" FROM m' --x "a \"b\" c"; millwright models"#),
        vec![
            vec![
                "millwright",
                "sql",
                r#"SELECT "Type" FROM m"#,
                "--x",
                r#"a "b" c"#
            ],
            vec!["millwright", "models"],
        ]
    );
    assert_eq!(strip_comment("millwright x  # note"), "millwright x  ");
    assert_eq!(strip_comment("millwright 'a # b'"), "millwright 'a # b'");
    let lines = walkthrough_lines("## Walkthrough: x\n```sh\nmillwright a \\\n   --b # c\n```\n## Other\n```sh\nmillwright no\n```\n");
    assert_eq!(lines, ["millwright a    --b"]);
}
