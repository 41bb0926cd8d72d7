//! The JSON Schema shapes of the catalogue's values that a derive cannot know: values the
//! loader checks by hand (durations, counts, restart words, probe and lint names), the shapes of
//! the hand-written `Deserialize` impls beside them in `spec`, and the parts of the catalogue
//! made by editing [`ServiceSpec`]'s schema. They sit beside the types they describe so that the
//! load stage, whose structs name them in `#[schemars(with = ...)]`, needs nothing later;
//! `crate::schema` assembles the whole schema from them.

use super::{
    Build, Command, DependsOn, EnvValue, GpuRequest, Gpus, ModelBinding, ModelBindings, ModelCache,
    Scalar, ServiceSpec,
};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};
use std::borrow::Cow;

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

/// A path `reset` and `override` name: a service key, or an entry, field or `compose` path
/// below one, as `crate::merge::ResetPath` reads it.
pub enum ResetPath {}

schema!(ResetPath, inline = false, |_g| {
    use crate::merge::{SERVICE_KEYS, Under};
    let keys: Vec<&str> = SERVICE_KEYS.iter().map(|r| r.key).collect();
    let docs: Vec<String> = SERVICE_KEYS
        .iter()
        .map(|r| match r.under {
            Under::Nothing => format!("`{}`, whole", r.key),
            Under::Names => format!("`{}`, or one entry: `{}.NAME`", r.key, r.key),
            Under::Fields(fields) => {
                format!("`{}`, or one of its keys: {}", r.key, fields.join(", "))
            }
            Under::Path => format!("`{}`, or a path in it: `{}.logging`", r.key, r.key),
        })
        .collect();
    let below: Vec<String> = SERVICE_KEYS
        .iter()
        .filter_map(|r| match r.under {
            Under::Nothing => None,
            Under::Names | Under::Path => Some(format!("^{}\\..+$", r.key)),
            Under::Fields(fields) => Some(format!("^{}\\.({})$", r.key, fields.join("|"))),
        })
        .collect();
    let mut any_of = vec![json!({ "enum": keys, "x-taplo": { "docs": { "enumValues": docs } } })];
    any_of.extend(below.into_iter().map(|p| json!({ "pattern": p })));
    json_schema!({ "type": "string", "anyOf": any_of })
});

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
                    "dockerfile_inline": {
                        "type": "string",
                        "description": "The Dockerfile itself, instead of a file (Compose 2.17 and later); the context defaults to `.`.",
                        "examples": ["FROM node:22-alpine\nCOPY . /app\nCMD [\"node\", \"/app/server.js\"]\n"],
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
                "anyOf": [{ "required": ["context"] }, { "required": ["dockerfile_inline"] }],
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

schema!(EnvValue, inline = true, |_g| {
    json_schema!({
        "anyOf": [
            { "type": ["string", "number", "boolean"] },
            {
                "type": "object",
                "description": "The value as a Compose secret: muster declares it, mounts it at \
                                /run/secrets/NAME and sets the variable the image reads the file \
                                from (POSTGRES_PASSWORD_FILE), so the value is in neither the \
                                generated file nor `docker inspect`.",
                "properties": {
                    "secret": {
                        "type": "string",
                        "description": "A file holding the value (a path with a `/`, relative \
                                        to the generated file: ./secrets/pg.txt), or the name \
                                        of a [secrets.NAME] table.",
                        "examples": ["./secrets/postgres_password.txt"],
                    },
                },
                "required": ["secret"],
                "additionalProperties": false,
            },
        ],
    })
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
