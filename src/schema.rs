//! The JSON Schema of the catalogue, for editors (Taplo, the engine of the Even Better TOML
//! extension, reads a file's `#:schema` line) and for validators in CI.
//!
//! It is derived from the structs the loader deserializes, so the keys it documents are the keys
//! the loader accepts, and their doc comments are the hover docs. This module adds what a derive
//! cannot know: the kinds of one catalogue (built-in plus the user's templates), the values the
//! loader checks by hand, and the shapes of the hand-written `Deserialize` impls in `spec`.

use crate::catalogue::CatalogueFile;
use crate::kinds::{Kinds, TemplateOrigin};
use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use serde_json::{Value, json};

/// The name `muster init` gives the schema, beside the catalogue.
pub const FILE_NAME: &str = "muster.schema.json";

/// Where the `kind` key of a catalogue entry sits in the generated schema.
const KIND_POINTER: &str = "/properties/services/additionalProperties/properties/kind";

/// The catalogue's schema, with `kind` limited to `kinds`.
pub fn catalogue_schema(kinds: &Kinds) -> Schema {
    // Draft 7 is the newest draft Taplo's validator knows.
    let settings =
        SchemaSettings::draft07().with_transform(RecursiveTransform(drop_null as fn(&mut Schema)));
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<CatalogueFile>();
    let kind = schema
        .pointer_mut(KIND_POINTER)
        .and_then(Value::as_object_mut)
        .expect("the catalogue entry has a `kind` property");
    let docs: Vec<String> = kinds
        .iter()
        .map(|k| match &k.template.origin {
            TemplateOrigin::BuiltIn if k.engines.is_empty() => k.summary.to_owned(),
            TemplateOrigin::BuiltIn => format!("{} ({})", k.summary, k.engines.join(", ")),
            TemplateOrigin::User(path) => format!("{} ({})", k.summary, path.display()),
        })
        .collect();
    kind.insert("enum".into(), kinds.names().collect());
    // Taplo's extension: a description per enum value, shown beside each completion.
    kind.insert("x-taplo".into(), json!({ "docs": { "enumValues": docs } }));
    schema
}

/// The kinds a schema file lists, when it is one muster wrote.
pub fn listed_kinds(text: &str) -> Option<Vec<String>> {
    let schema: Value = serde_json::from_str(text).ok()?;
    let kinds = schema.pointer(KIND_POINTER)?.get("enum")?.as_array()?;
    kinds
        .iter()
        .map(|k| k.as_str().map(str::to_owned))
        .collect()
}

/// A warning when `muster.schema.json` beside the catalogue does not list the kinds the
/// catalogue can use: the editor would then flag a kind of the templates folder as unknown, or
/// offer one that no longer exists. Only a schema muster wrote is judged (one with `kind`'s
/// list where muster puts it); a missing or foreign file is the user's business.
pub fn stale_warning(
    catalogue: &std::path::Path,
    kinds: &Kinds,
) -> Option<crate::diagnostic::Diagnostic> {
    let dir = catalogue.parent().unwrap_or(std::path::Path::new(""));
    let path = dir.join(FILE_NAME);
    let text = std::fs::read_to_string(&path).ok()?;
    let listed = listed_kinds(&text)?;
    let known: Vec<&str> = kinds.names().collect();
    let missing: Vec<&str> = known
        .iter()
        .copied()
        .filter(|k| !listed.iter().any(|l| l == k))
        .collect();
    let extra: Vec<&str> = listed
        .iter()
        .map(String::as_str)
        .filter(|l| !known.contains(l))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut what = Vec::new();
    if !missing.is_empty() {
        what.push(format!("does not list {}", list(&missing)));
    }
    if !extra.is_empty() {
        what.push(format!("lists {} that no longer exist", list(&extra)));
    }
    let shown = if dir.as_os_str().is_empty() {
        FILE_NAME.to_owned()
    } else {
        path.display().to_string()
    };
    Some(
        crate::diagnostic::Diagnostic::warning(format!(
            "{shown} is out of date: it {}, so editors misjudge `kind`",
            what.join(" and ")
        ))
        .with_lint(crate::model::Lint::StaleSchema)
        .with_note(format!("run `muster schema -o {shown}`")),
    )
}

/// The schema as the committed file holds it: pretty JSON ending in a newline.
pub fn to_json(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema is plain JSON");
    text.push('\n');
    text
}

/// TOML has no null, so the `null` schemars allows for every `Option` field would only offer
/// editors a value no catalogue can hold. Applied to every subschema, parents first.
fn drop_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    let Some(Value::Array(any_of)) = object.get_mut("anyOf") else {
        return;
    };
    any_of.retain(|s| s.get("type").is_none_or(|t| t != "null"));
    if let [Value::Object(only)] = any_of.as_slice() {
        let only = only.clone();
        object.remove("anyOf");
        for (key, value) in only {
            object.entry(key).or_insert(value);
        }
    }
}
