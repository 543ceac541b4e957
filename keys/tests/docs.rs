//! docs/key-ceremony.md cannot go stale: every `sealpass-keys` command in its
//! code blocks names a real subcommand, and every option it uses exists.

use std::process::Command;

const GROUPS: [&str; 4] = ["custodian", "issuer", "roots", "transcript"];

#[test]
fn every_command_in_the_ceremony_script_exists() {
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/key-ceremony.md"
    ))
    .unwrap();
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in script.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        pending.push_str(line.trim().trim_end_matches('\\'));
        pending.push(' ');
        if line.trim_end().ends_with('\\') {
            continue;
        }
        if let Some(rest) = pending.trim().strip_prefix("sealpass-keys ") {
            commands.push(rest.to_owned());
        }
        pending.clear();
    }
    assert!(commands.len() >= 12, "found only {commands:?}");

    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        let path = if GROUPS.contains(&words[0]) {
            &words[..2]
        } else {
            &words[..1]
        };
        let output = Command::new(env!("CARGO_BIN_EXE_sealpass-keys"))
            .args(path)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "no subcommand {path:?} ({command})"
        );
        let help = String::from_utf8(output.stdout).unwrap();
        for option in words.iter().map(|w| w.trim_start_matches('[')) {
            if let Some(flag) = option.strip_prefix("--") {
                let flag = flag.split(['=', ']']).next().unwrap();
                assert!(
                    help.contains(&format!("--{flag}")),
                    "`sealpass-keys {}` has no option --{flag} ({command})",
                    path.join(" ")
                );
            }
        }
    }
}
