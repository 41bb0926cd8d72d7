//! The checks one layer of service keys needs no other layer for: durations, restart policies,
//! probe names, ports, paths, interpolation, the `compose` table's keys. A catalogue entry, its
//! per-profile overrides and a profile's sections are all such layers, so the catalogue and the
//! profile loaders both run them, and this module sits below both.

use super::{Command, EnvValue, ServiceSpec};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceId};
use crate::model::HealthKey;
use crate::probe::REQUESTS;
use toml::Spanned;

/// `kind` and `profiles` belong to a catalogue entry alone: a layer applied over many services
/// (`what`: a profile's section, or an entry's per-profile override) cannot set them.
pub fn check_layer_keys(
    spec: &ServiceSpec,
    what: &str,
    source: SourceId,
    diagnostics: &mut Diagnostics,
) {
    if let Some(kind) = &spec.kind {
        diagnostics.push(Diagnostic::error(format!("{what} cannot set `kind`")).at(
            source,
            Some(kind.span()),
            "set `kind` on the service itself",
        ));
    }
    if let Some(only_in) = &spec.only_in {
        diagnostics.push(
            Diagnostic::error(format!("{what} cannot set `only_in`")).at(
                source,
                Some(only_in.span()),
                "set `only_in` on the service itself",
            ),
        );
    }
    if let Some(nested) = spec.profiles.as_ref().and_then(|p| p.values().next()) {
        diagnostics.push(
            Diagnostic::error(format!("{what} cannot have a `profiles` table")).at(
                source,
                Some(nested.span()),
                "per-profile overrides belong on the service itself",
            ),
        );
    }
}

/// Checks the values of one layer that need no other layer to judge: durations, restart
/// policies, probe names, paths. Used for catalogue entries and profile sections alike.
pub fn check_layer(spec: &ServiceSpec, source: SourceId, diagnostics: &mut Diagnostics) {
    if let Some(restart) = &spec.restart {
        let r = restart.get_ref();
        // Compose interpolates it (`${RESTART:-unless-stopped}`): the default is judged, and a
        // variable without one is the environment's to decide.
        if crate::model::Restart::parse_interpolated(r).is_err() {
            let mut d = Diagnostic::error(format!("invalid restart policy {r:?}"))
                .at(source, Some(restart.span()), "not a Compose restart policy")
                .with_note("use \"no\", \"always\", \"on-failure\", \"on-failure:N\" or \"unless-stopped\"");
            if let Some(hint) =
                crate::suggest::did_you_mean(r, crate::model::Restart::WORDS.iter().copied())
            {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    if let Some(probe) = &spec.probe {
        let p = probe.get_ref();
        if !REQUESTS.contains(&p.as_str()) {
            let mut d = Diagnostic::error(format!("unknown probe {p:?}"))
                .at(source, Some(probe.span()), "not a probe muster knows")
                .with_note(format!("probes: {}", REQUESTS.join(", ")));
            if let Some(hint) = crate::suggest::did_you_mean(p, REQUESTS.iter().copied()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    let retries = spec.healthcheck.as_ref().and_then(|hc| hc.retries.as_ref());
    for (what, count) in [
        ("replicas", &spec.replicas),
        ("healthcheck retries", &retries.cloned()),
    ] {
        if let Some(count) = count
            && let Some(text) = count.get_ref().text()
            && let Err(reason) = crate::model::Count::check(text)
        {
            diagnostics.push(Diagnostic::error(format!("invalid {what} {text:?}")).at(
                source,
                Some(count.span()),
                &reason,
            ));
        }
    }
    if let Some(port) = spec.port.as_ref().filter(|p| *p.get_ref() == 0) {
        diagnostics.push(
            Diagnostic::error("port 0 is not a port a probe can reach").at(
                source,
                Some(port.span()),
                "use 1-65535",
            ),
        );
    }
    for mapping in spec.ports.iter().flatten() {
        if let Err(reason) = crate::ports::parse_interpolated(mapping.get_ref()) {
            diagnostics.push(
                Diagnostic::error(format!("invalid port mapping {:?}", mapping.get_ref())).at(
                    source,
                    Some(mapping.span()),
                    &reason,
                ),
            );
        }
    }
    if let Some(image) = &spec.image {
        let text = image.get_ref();
        let checked = crate::model::interpolation::parse_at_defaults(text, |t| {
            crate::images::reference_problem(t).map_or(Ok(()), Err)
        });
        if let Err(reason) = checked {
            diagnostics.push(
                Diagnostic::error(format!("invalid image reference {text:?}"))
                    .at(source, Some(image.span()), &reason)
                    .with_note("Docker refuses it (\"invalid reference format\") when it creates the container"),
            );
        }
    }
    for (key, command) in [("command", &spec.command), ("entrypoint", &spec.entrypoint)] {
        if let Some(command) = command
            && let Command::Line(line) = command.get_ref()
            && let Err(reason) = crate::model::command_line::split(line)
        {
            diagnostics.push(
                Diagnostic::error(format!("the {key} {line:?} has {reason}"))
                    .at(
                        source,
                        Some(command.span()),
                        "Compose cannot split this into words",
                    )
                    .with_note(
                        "Compose splits a command string into words (go-shellwords, not a shell) \
                         and refuses this one: \"invalid command line string\"; write a list, \
                         or `[\"sh\", \"-c\", \"...\"]` for a shell",
                    ),
            );
        }
    }
    check_interpolation(spec, source, diagnostics);
    check_floors(spec, source, diagnostics);
    let mut targets: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    for volume in spec.volumes.iter().flatten() {
        let text = volume.get_ref();
        // A mount Compose interpolates is checked with its defaults; without one, not at all.
        let checked = crate::model::interpolation::parse_at_defaults(text, |t| {
            crate::volumes::target(t).map(str::to_owned)
        });
        match checked {
            Ok(None) => {}
            Err(reason) => {
                diagnostics.push(Diagnostic::error(format!("invalid volume {text:?}")).at(
                    source,
                    Some(volume.span()),
                    &reason,
                ));
            }
            Ok(Some(target)) => {
                // Compose's loader keeps the last mount of a container path and drops the
                // others without a word (measured with 2.40.3's `config`): the file runs, so
                // this is a lint, not an error.
                if let Some((_, first)) = targets.iter().find(|(t, _)| *t == target) {
                    diagnostics.push(
                        Diagnostic::warning(format!(
                            "two mounts on `{target}` in one `volumes`: Compose keeps only the \
                             last, `{text}`, and drops the other without a word"
                        ))
                        .with_lint(crate::model::Lint::ShadowedMount)
                        .at(source, Some(volume.span()), "this one is mounted")
                        .with_label(crate::diagnostic::Label::new(
                            source,
                            first.clone(),
                            "this one is dropped",
                        ))
                        .with_note("remove the mount that is dropped, or mount it elsewhere"),
                    );
                }
                targets.retain(|(t, _)| *t != target);
                targets.push((target, volume.span()));
            }
        }
    }
    for path in [&spec.health_path, &spec.ready_path].into_iter().flatten() {
        let p = path.get_ref();
        if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
            diagnostics.push(Diagnostic::error(format!("invalid HTTP path {p:?}")).at(
                source,
                Some(path.span()),
                "must start with `/` and contain no spaces",
            ));
        }
    }
    if let Some(app) = &spec.app {
        let a = app.get_ref();
        let valid = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'));
        if !valid {
            diagnostics.push(Diagnostic::error(format!("invalid Celery app {a:?}")).at(
                source,
                Some(app.span()),
                "expected a Python module path such as `config` or `proj.celery:app`",
            ));
        }
    }
    if let Some(hc) = &spec.healthcheck {
        for timing in [
            &hc.interval,
            &hc.timeout,
            &hc.start_period,
            &hc.start_interval,
        ]
        .into_iter()
        .flatten()
        {
            if let Err(reason) = crate::model::duration::parse_interpolated(timing.get_ref()) {
                diagnostics.push(Diagnostic::error("invalid duration").at(
                    source,
                    Some(timing.span()),
                    &reason,
                ));
            }
        }
        if let Some(test) = &hc.test
            && let Command::Argv(argv) = test.get_ref()
            && !matches!(
                argv.first().map(String::as_str),
                Some("CMD" | "CMD-SHELL" | "NONE")
            )
        {
            diagnostics.push(
                Diagnostic::error(
                    "a healthcheck `test` list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"",
                )
                .at(source, Some(test.span()), "no form")
                .with_note("or write a string, which Compose runs as CMD-SHELL"),
            );
        }
    }
    if let Some(gpus) = &spec.gpus
        && let crate::spec::Gpus::Request(request) = gpus.get_ref()
        && request.count.is_some()
        && request.device_ids.is_some()
    {
        diagnostics.push(
            Diagnostic::error("`gpus` sets both `count` and `device_ids`")
                .at(source, Some(gpus.span()), "one or the other")
                .with_note(
                    "Compose refuses it: \"count\" and \"device_ids\" attributes are exclusive",
                ),
        );
    }
    if let Some(cache) = &spec.model_cache
        && let crate::spec::ModelCache::Path(path) = cache.get_ref()
        && !path.starts_with('/')
    {
        diagnostics.push(
            Diagnostic::error(format!("invalid model cache path {path:?}"))
                .at(source, Some(cache.span()), "not an absolute container path")
                .with_note("write where the model server keeps its downloads, e.g. \"/root/.cache/huggingface\""),
        );
    }
    if let Some(env) = &spec.env {
        for (key, value) in env {
            if key.is_empty() || key.contains('=') {
                diagnostics.push(Diagnostic::error(format!(
                    "invalid environment variable name {key:?}"
                )));
            }
            if let EnvValue::Secret(secret) = value.get_ref() {
                secret_reference(secret, source, diagnostics);
            }
        }
    }
}

/// `reset` and `override`: paths that name something a layer sets, each once; a reset this
/// layer also sets (Compose ignores a value under `!reset`, which here would be a silent
/// surprise), an override it does not set (nothing would replace the lower layers' value).
fn check_floors(spec: &ServiceSpec, source: SourceId, diagnostics: &mut Diagnostics) {
    let mut seen: Vec<crate::merge::ResetPath> = Vec::new();
    let lists = [("reset", &spec.reset), ("override", &spec.overrides)];
    for (list, paths) in lists {
        for written in paths.iter().flatten() {
            let path =
                match crate::merge::ResetPath::parse(written.get_ref()) {
                    Ok(path) => path,
                    Err(reason) => {
                        diagnostics.push(
                            Diagnostic::error(format!("`{list}` names {:?}", written.get_ref()))
                                .at(source, Some(written.span()), &reason),
                        );
                        continue;
                    }
                };
            if seen.contains(&path) {
                diagnostics.push(
                    Diagnostic::error(format!("`{path}` is named twice in `reset` and `override`"))
                        .at(source, Some(written.span()), "named again here")
                        .with_note("`reset` removes the lower layers' value, `override` replaces it with this layer's: name it in one"),
                );
                continue;
            }
            let sets = spec.sets(&path);
            match (list, sets) {
                ("reset", true) => diagnostics.push(
                    Diagnostic::error(format!("`{path}` is reset and set in the same layer"))
                        .at(source, Some(written.span()), "reset here")
                        .with_note(format!(
                            "to replace the lower layers' value with this one, write `override = [\"{path}\"]`; to remove it, drop the value"
                        )),
                ),
                ("override", false) => diagnostics.push(
                    Diagnostic::error(format!("`override` names `{path}`, which this layer does not set"))
                        .at(source, Some(written.span()), "nothing here replaces the lower layers' value")
                        .with_note(format!(
                            "set `{path}` in this layer, or write `reset = [\"{path}\"]` to remove it"
                        )),
                ),
                _ => {}
            }
            seen.push(path);
        }
    }
}

/// `env.X.secret`: a file or the name of a `[secrets.NAME]` table.
fn secret_reference(secret: &Spanned<String>, source: SourceId, diagnostics: &mut Diagnostics) {
    let text = secret.get_ref();
    if super::secret_reference_is_valid(text) {
        return;
    }
    diagnostics.push(
        Diagnostic::error(format!(
            "`secret = {text:?}` is neither a file nor a secret's name"
        ))
        .at(source, Some(secret.span()), "a file path has a `/`")
        .with_note(
            "write a file as a path (`./secrets/pg_password.txt`), or name a `[secrets.NAME]` \
                 table: letters, digits, `.`, `_` and `-`",
        ),
    );
}

/// Compose interpolates every value of the file before it reads any, and refuses the whole file
/// over one it cannot (`${`, `${A:-`, `${A`, `${1X}`): "invalid interpolation format". The
/// values whose own checks interpolate them already (image, ports, volumes, durations) are
/// left to those checks, so that one mistake is one error.
fn check_interpolation(spec: &ServiceSpec, source: SourceId, diagnostics: &mut Diagnostics) {
    // Every value of every entry passes here: text without a `$` is left at once, and `what`
    // formatted only for an error.
    let mut check = |text: &str, span: std::ops::Range<usize>, what: std::fmt::Arguments| {
        if !text.contains('$') {
            return;
        }
        if let Err(reason) = crate::model::interpolation::with_defaults(text) {
            diagnostics.push(
                Diagnostic::error(format!("Compose cannot interpolate {what} {text:?}"))
                    .at(source, Some(span), &reason)
                    .with_note(
                        "Compose refuses the file: \"invalid interpolation format ... You may \
                         need to escape any $ with another $\"",
                    ),
            );
        }
    };
    for (key, value) in spec.env.iter().flatten() {
        match value.get_ref() {
            EnvValue::Plain(plain) => check(&plain.0, value.span(), format_args!("`env.{key}`")),
            EnvValue::Secret(secret) => check(
                secret.get_ref(),
                secret.span(),
                format_args!("`env.{key}.secret`"),
            ),
        }
    }
    for (key, value) in spec.labels.iter().flatten() {
        check(
            &value.get_ref().0,
            value.span(),
            format_args!("`labels.{key}`"),
        );
    }
    let hc_test = spec.healthcheck.as_ref().and_then(|hc| hc.test.as_ref());
    for (what, command) in [
        ("`command`", &spec.command),
        ("`entrypoint`", &spec.entrypoint),
        ("`healthcheck.test`", &hc_test.cloned()),
    ] {
        let Some(command) = command else { continue };
        match command.get_ref() {
            Command::Line(line) => check(line, command.span(), format_args!("{what}")),
            Command::Argv(argv) => argv
                .iter()
                .for_each(|a| check(a, command.span(), format_args!("{what}"))),
        }
    }
    for network in spec.networks.iter().flatten() {
        check(
            network.get_ref(),
            network.span(),
            format_args!("the network"),
        );
    }
    if let Some(build) = &spec.build {
        let b = build.get_ref();
        let args = b.args.iter().flatten().map(|(_, v)| v.0.as_str());
        for text in [
            Some(b.context.as_str()),
            b.dockerfile.as_deref(),
            b.dockerfile_inline.as_deref(),
            b.target.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(args)
        {
            check(text, build.span(), format_args!("a `build` value"));
        }
    }
    if let Some(compose) = &spec.compose {
        fn strings<'t>(path: String, value: &'t toml::Value, out: &mut Vec<(String, &'t str)>) {
            match value {
                toml::Value::String(s) => out.push((path, s)),
                toml::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        strings(format!("{path}[{i}]"), v, out);
                    }
                }
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        strings(format!("{path}.{k}"), v, out);
                    }
                }
                _ => {}
            }
        }
        // The durations are read, and their interpolation judged, with the rest of the body.
        let mut found = Vec::new();
        for (key, value) in compose.get_ref() {
            strings(format!("compose.{key}"), value, &mut found);
        }
        for (path, text) in found {
            let key = &path["compose.".len()..];
            let duration =
                key == "stop_grace_period" || HealthKey::DURATIONS.iter().any(|k| k.path() == key);
            if !duration {
                check(text, compose.span(), format_args!("`{path}`"));
            }
        }
        for key in compose.get_ref().keys() {
            if key == "<<" {
                continue; // Said below, with what to write instead.
            }
            if let Some(suggestion) = crate::compose_spec::unknown_service_key(key) {
                let mut d = Diagnostic::error(format!(
                    "`compose.{key}` is not a key Compose knows in a service"
                ))
                .at(source, Some(compose.span()), "in this table")
                .with_note(format!(
                    "Compose refuses the file (\"additional properties '{key}' not allowed\"); \
                     an extension key of your own starts with `x-`"
                ));
                if let Some(hint) = suggestion {
                    d = d.with_note(hint);
                }
                diagnostics.push(d);
            }
        }
        // TOML has no merge keys: `"<<"` is a key of that name, which Compose's schema refuses
        // ("additional properties '<<' not allowed").
        if let Some(path) = merge_key(compose.get_ref(), "compose") {
            diagnostics.push(
                Diagnostic::error(format!(
                    "`{path}` is a key named `<<`, which Compose refuses"
                ))
                .at(source, Some(compose.span()), "here")
                .with_note("a YAML merge key means nothing in TOML: write the keys it would merge"),
            );
        }
    }
}

/// The path of the first key named `<<` in `table`, at any depth.
fn merge_key(table: &toml::Table, path: &str) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let here = format!("{path}.{key}");
        match value {
            _ if key == "<<" => Some(here),
            toml::Value::Table(t) => merge_key(t, &here),
            _ => None,
        }
    })
}
