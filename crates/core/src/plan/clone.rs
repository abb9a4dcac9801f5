//! Cloning a plan file as text, so that its comments and layout survive:
//! only the `[plan]` table's `id`, `name` and `cloned_from` lines change.

/// The key a TOML line sets, when it is a plain `key = value` line.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(key)
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `text` with the `[plan]` table's id set to `new_id`, its name to
/// `name` (when given), and `origin` (a `cloned_from = ...` line) in place
/// of any earlier one. `None` when the table has no `id` line.
pub fn clone_text(text: &str, new_id: &str, name: Option<&str>, origin: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + origin.len() + 2);
    let mut in_plan = false;
    let mut found_id = false;
    let mut name_done = name.is_none();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if in_plan && !name_done {
                if let Some(n) = name {
                    out.push_str(&format!("name = {}\n", quoted(n)));
                }
                name_done = true;
            }
            in_plan = trimmed.starts_with("[plan]");
        }
        let eol = if line.ends_with("\r\n") {
            "\r\n"
        } else if line.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        let indent = &line[..line.len() - trimmed.len()];
        match (in_plan, key_of(trimmed)) {
            (true, Some("id")) if !found_id => {
                found_id = true;
                out.push_str(&format!("{indent}id = {}{eol}", quoted(new_id)));
                out.push_str(&format!("{indent}{origin}\n"));
            }
            (true, Some("cloned_from")) => {}
            (true, Some("name")) if name.is_some() && !name_done => {
                name_done = true;
                out.push_str(&format!(
                    "{indent}name = {}{eol}",
                    quoted(name.unwrap_or_default())
                ));
            }
            _ => out.push_str(line),
        }
    }
    if !found_id {
        return None;
    }
    if !name_done {
        if let Some(n) = name {
            // The [plan] table ran to the end of the file.
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("name = {}\n", quoted(n)));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::clone_text;

    #[test]
    fn only_the_plan_header_changes() {
        let source = "# Retention plan\n[plan]\nid = \"am\"   # the id\nname = \"AM\"\ncloned_from = { plan = \"x\" }\n\n[[components]]\nid = \"commission\" # kept\nrate = \"7.5%\"\n";
        let cloned = clone_text(
            source,
            "am_v2",
            Some("AM v2"),
            "cloned_from = { plan = \"am\" }",
        );
        assert_eq!(
            cloned.as_deref(),
            Some("# Retention plan\n[plan]\nid = \"am_v2\"\ncloned_from = { plan = \"am\" }\nname = \"AM v2\"\n\n[[components]]\nid = \"commission\" # kept\nrate = \"7.5%\"\n")
        );
    }

    #[test]
    fn a_name_is_added_when_missing() {
        let cloned = clone_text(
            "[plan]\nid = \"a\"\n[[components]]\n",
            "b",
            Some("B"),
            "cloned_from = { plan = \"a\" }",
        );
        assert_eq!(
            cloned.as_deref(),
            Some("[plan]\nid = \"b\"\ncloned_from = { plan = \"a\" }\nname = \"B\"\n[[components]]\n")
        );
        assert_eq!(clone_text("[other]\nid = 1\n", "b", None, ""), None);
    }
}
