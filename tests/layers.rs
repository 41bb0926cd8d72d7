//! The README's table of how layers merge is the one `src/merge.rs` applies: every service key
//! is in one row, and every key of a row merges by the row's rule.

mod common;

use muster::merge::{Rule, SERVICE_KEYS, Unique};

/// The rows of the table under "### How layers merge", each as its first cell's keys.
fn table_rows() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let section = readme
        .split("### How layers merge")
        .nth(1)
        .expect("the README has the section");
    section
        .lines()
        .skip_while(|l| !l.starts_with("| a layer writes"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let first = row.split('|').nth(1).unwrap_or_default();
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

#[test]
fn the_readme_table_is_the_merge_rules() {
    let rows = table_rows();
    // The rule each row states, in the table's order; the last two are `reset` and `override`.
    let stated = [
        Rule::Replace,
        Rule::Replace,
        Rule::ByKey,
        Rule::ByKey,
        Rule::ByKey,
        Rule::Append(Unique::Item),
        Rule::Append(Unique::Target),
        Rule::ByKey,
    ];
    assert_eq!(rows.len(), stated.len() + 2, "rows: {rows:?}");
    for (keys, rule) in rows.iter().zip(stated) {
        for key in keys.iter().filter(|k| !k.contains('.')) {
            let found = muster::merge::rule(key)
                .unwrap_or_else(|| panic!("the README names `{key}`, which merge.rs lacks"));
            assert_eq!(
                found.rule, rule,
                "`{key}` merges otherwise than its row says"
            );
        }
    }
    for key in SERVICE_KEYS {
        let rows_naming = rows
            .iter()
            .filter(|r| r.iter().any(|k| k == key.key))
            .count();
        assert_eq!(
            rows_naming, 1,
            "`{}` is in {rows_naming} rows of the README's table",
            key.key
        );
    }
}
