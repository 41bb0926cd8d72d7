//! The JSON Schema of the catalogue, for editors (Taplo, the engine of the Even Better TOML
//! extension, reads a file's `#:schema` line) and for validators in CI.
//!
//! It is derived from the structs the loader deserializes, so the keys it documents are the keys
//! the loader accepts, and their doc comments are the hover docs. This module adds what a derive
//! cannot know: the kinds of one catalogue (built-in plus the user's templates), the values the
//! loader checks by hand, and the shapes of the hand-written `Deserialize` impls in `spec`.

use crate::catalogue::CatalogueFile;
use crate::kinds::{Kinds, TemplateOrigin};

use crate::spec::{
    Build, Command, DependsOn, GpuRequest, Gpus, ModelBinding, ModelBindings, ModelCache, Scalar,
    ServiceSpec,
};
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};
use std::borrow::Cow;

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
    inputs: &crate::config::Inputs,
    kinds: &Kinds,
) -> Option<crate::diagnostic::Diagnostic> {
    let dir = inputs
        .catalogue
        .parent()
        .unwrap_or(std::path::Path::new(""));
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

/// A hand-written schema: a value the loader checks by hand, a shape a hand-written
/// `Deserialize` accepts, or a part of the catalogue made by editing [`ServiceSpec`]'s.
macro_rules! schema {
    ($type:ident, inline = $inline:literal, |$generator:ident| $body:expr) => {
        impl JsonSchema for $type {
            fn inline_schema() -> bool {
                $inline
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($type).into()
            }

            fn json_schema($generator: &mut SchemaGenerator) -> Schema {
                $body
            }
        }
    };
}

/// A `[services.NAME]` table: the service keys, `kind` required.
pub enum CatalogueEntry {}

schema!(CatalogueEntry, inline = true, |generator| {
    let mut schema = ServiceSpec::json_schema(generator);
    schema.insert("required".into(), json!(["kind"]));
    schema.insert(
        "description".into(),
        "One service: its kind, and the keys that differ from its kind's and profile's defaults."
            .into(),
    );
    schema.insert("x-taplo".into(), json!({ "initKeys": ["kind"] }));
    schema
});

/// `[services.NAME.profiles.PROFILE]`: the service keys but `kind` and `profiles`, which the
/// loader rejects there. A definition, not inline, because it is reached from itself.
pub enum ServiceOverride {}

schema!(ServiceOverride, inline = false, |generator| {
    let mut schema = ServiceSpec::json_schema(generator);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.remove("kind");
        properties.remove("profiles");
        properties.remove("only_in");
    }
    schema.insert(
        "description".into(),
        "Service keys applied only under one profile, over the service's own.".into(),
    );
    schema
});

/// `kind`: a string here; [`catalogue_schema`] lists the kinds, which depend on the
/// templates folder.
pub enum KindName {}

schema!(
    KindName,
    inline = true,
    |_g| json_schema!({ "type": "string" })
);

/// The name of a lint, as `muster check --list-lints` shows them.
pub enum LintName {}

schema!(LintName, inline = true, |_g| {
    let docs: Vec<String> = crate::model::Lint::ALL
        .iter()
        .map(|l| format!("{}: {}", l.checks(), l.why()))
        .collect();
    json_schema!({
        "type": "string",
        "enum": crate::model::Lint::names().collect::<Vec<_>>(),
        "x-taplo": { "docs": { "enumValues": docs } },
    })
});

/// A port a probe can reach.
pub enum Port {}

schema!(
    Port,
    inline = true,
    |_g| json_schema!({ "type": "integer", "minimum": 1, "maximum": 65535 })
);

/// A Compose duration as `crate::model::duration::parse_interpolated` reads it: Go's syntax, or
/// text Compose interpolates (whose default load checks).
pub enum Duration {}

schema!(Duration, inline = true, |_g| json_schema!({
    "type": "string",
    "anyOf": [
        { "pattern": "^(([0-9]+\\.?[0-9]*|\\.[0-9]+)(ns|us|µs|ms|s|m|h))+$" },
        { "pattern": "\\$" },
    ],
}));

/// A whole number, or a string Compose interpolates into one.
pub enum Count {}

schema!(Count, inline = true, |_g| json_schema!({
    "anyOf": [
        { "type": "integer", "minimum": 0 },
        { "type": "string", "pattern": "^[0-9]+$|\\$" },
    ],
}));

/// A Compose restart policy, as `catalogue::check_layer` accepts it.
pub enum Restart {}

schema!(Restart, inline = true, |_g| json_schema!({
    "type": "string",
    "anyOf": [
        { "enum": crate::model::Restart::WORDS },
        { "pattern": "^on-failure:[0-9]+$" },
        { "pattern": "\\$" },
    ],
}));

/// The `probe` key's values.
pub enum ProbeName {}

schema!(
    ProbeName,
    inline = true,
    |_g| json_schema!({ "type": "string", "enum": crate::probe::REQUESTS })
);

schema!(Build, inline = true, |generator| {
    json_schema!({
        "anyOf": [
            {
                "type": "string",
                "description": "The build context: a folder with a Dockerfile.",
            },
            {
                "type": "object",
                "properties": {
                    "context": {
                        "type": "string",
                        "description": "The build context: the folder sent to the builder.",
                        "examples": ["../backend"],
                    },
                    "dockerfile": {
                        "type": "string",
                        "description": "The Dockerfile, relative to the context.",
                        "examples": ["Dockerfile.prod"],
                    },
                    "target": {
                        "type": "string",
                        "description": "The stage of a multi-stage Dockerfile to build.",
                        "examples": ["runtime"],
                    },
                    "args": {
                        "description": "Build arguments; numbers and booleans are written as strings.",
                        "type": "object",
                        "additionalProperties": generator.subschema_for::<Scalar>(),
                        "examples": [{ "PYTHON_VERSION": "3.12" }],
                    },
                },
                "required": ["context"],
                "additionalProperties": false,
            },
        ],
    })
});

schema!(Command, inline = true, |_g| {
    json_schema!({
        "anyOf": [
            { "type": "string" },
            { "type": "array", "items": { "type": "string" } },
        ],
    })
});

schema!(Scalar, inline = true, |_g| {
    json_schema!({ "type": ["string", "number", "boolean"] })
});

schema!(DependsOn, inline = true, |_g| {
    // The Compose names too, as `model::Condition::parse` accepts them.
    let conditions = serde_json::json!({
        "type": "string",
        "description": "What to wait for: healthy, started, or completed (successfully).",
        "examples": ["healthy"],
        "enum": [
            "healthy",
            "started",
            "completed",
            "service_healthy",
            "service_started",
            "service_completed_successfully",
        ],
    });
    json_schema!({
        "anyOf": [
            {
                "type": "array",
                "items": { "type": "string" },
                "description": "Services to wait for, each as far as it can be known to be ready.",
            },
            {
                "type": "object",
                "description": "Services to wait for, each with the condition to wait for, or \
                                `{ condition, restart, required }`.",
                "additionalProperties": {
                    "anyOf": [
                        conditions.clone(),
                        {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {
                                "condition": conditions,
                                "restart": {
                                    "type": "boolean",
                                    "description": "Compose restarts this service when a Compose command restarts the dependency.",
                                    "examples": [true],
                                },
                                "required": {
                                    "type": "boolean",
                                    "description": "`false`: an optional dependency; Compose warns and starts this service anyway.",
                                    "examples": [false],
                                },
                            },
                        },
                    ],
                },
                "examples": [{ "postgres": { "condition": "healthy", "restart": true }, "migrate": "completed" }],
            },
        ],
    })
});

schema!(Gpus, inline = true, |generator| {
    json_schema!({
        "anyOf": [
            { "const": "all", "description": "Every GPU of the host." },
            { "type": "integer", "minimum": 0, "description": "How many GPUs." },
            generator.subschema_for::<GpuRequest>(),
        ],
    })
});

schema!(ModelCache, inline = true, |_g| {
    json_schema!({
        "anyOf": [
            { "type": "boolean", "description": "At the image's cache path, or none." },
            { "type": "string", "pattern": "^/", "description": "The container path of the cache." },
        ],
    })
});

schema!(ModelBindings, inline = true, |generator| {
    json_schema!({
        "anyOf": [
            {
                "type": "array",
                "items": { "type": "string" },
                "description": "Models of the `[models]` table; Compose sets NAME_URL and NAME_MODEL.",
            },
            {
                "type": "object",
                "description": "Models of the `[models]` table, each with the variables Compose sets.",
                "additionalProperties": generator.subschema_for::<ModelBinding>(),
            },
        ],
    })
});
