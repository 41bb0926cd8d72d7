//! The layers of one service and the provenance they record as values are picked from them.

use crate::catalogue::Entry;
use crate::diagnostic::SourceId;
use crate::kinds::Kind;
use crate::merge::{ResetPath, Rule};
use crate::model::HealthKey;
use crate::profile::Profile;
use crate::spec::{Build, Command, EnvValue, HealthcheckSpec, ModelBinding, Scalar, ServiceSpec};
use indexmap::IndexMap;
use std::fmt;
use toml::Spanned;

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// The kind's built-in knowledge or the image's facts.
    KindDefault,
    Profile(String),
    ProfileKind(String),
    Catalogue,
    Override(String),
    /// A profile's `[services.NAME]`: timings `muster tune` measured on the day it says.
    Measured {
        profile: String,
        date: String,
    },
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Layer::KindDefault => f.write_str("kind default"),
            Layer::Profile(p) => write!(f, "profile {p} [defaults]"),
            Layer::ProfileKind(p) => write!(f, "profile {p} [kinds]"),
            Layer::Catalogue => f.write_str("catalogue"),
            Layer::Override(p) => write!(f, "catalogue profiles.{p}"),
            Layer::Measured { profile, date } => {
                write!(f, "profile {profile} [services], measured {date}")
            }
        }
    }
}

/// A layer as the stack holds it, borrowing the profile's name: an owned [`Layer`] is made only
/// when provenance is recorded.
#[derive(Clone, Copy)]
pub(super) enum Origin<'a> {
    Profile(&'a str),
    ProfileKind(&'a str),
    Catalogue,
    Override(&'a str),
    /// The profile and the day of its measurement.
    Measured(&'a str, &'a str),
}

impl<'a> Origin<'a> {
    pub(super) fn is_profile(self) -> bool {
        self.profile().is_some()
    }

    /// The profile whose `[defaults]`, `[kinds.KIND]` or `[services.NAME]` this is.
    pub(super) fn profile(self) -> Option<&'a str> {
        match self {
            Origin::Profile(p) | Origin::ProfileKind(p) | Origin::Measured(p, _) => Some(p),
            Origin::Catalogue | Origin::Override(_) => None,
        }
    }

    pub(super) fn to_layer(self) -> Layer {
        match self {
            Origin::Profile(p) => Layer::Profile(p.to_owned()),
            Origin::ProfileKind(p) => Layer::ProfileKind(p.to_owned()),
            Origin::Catalogue => Layer::Catalogue,
            Origin::Override(p) => Layer::Override(p.to_owned()),
            Origin::Measured(profile, date) => Layer::Measured {
                profile: profile.to_owned(),
                date: date.to_owned(),
            },
        }
    }
}

pub(super) struct LayerRef<'a> {
    pub(super) origin: Origin<'a>,
    pub(super) source: SourceId,
    pub(super) spec: &'a ServiceSpec,
}

/// One layer's `reset` or `override` path: the layers below it give nothing there.
pub(super) struct Floor<'a> {
    /// The index of the layer that names it in [`Layers::layers`].
    pub(super) layer: usize,
    pub(super) path: ResetPath,
    /// Which layer it is, for provenance.
    pub(super) origin: Origin<'a>,
}

/// The `env` variables the layers give as secrets: each one's `secret` and the file it is in.
pub(super) type SecretVariables<'a> = IndexMap<String, (&'a Spanned<String>, SourceId)>;

/// The layers of one service, with the provenance they produce as keys are picked.
pub(super) struct Layers<'a> {
    pub(super) layers: Vec<LayerRef<'a>>,
    /// `None` when the caller does not read provenance: recording it costs a key and a layer
    /// per value, and most of resolve's time when nothing asks for it.
    pub(super) provenance: Option<IndexMap<String, Layer>>,
    /// Every layer's `reset` and `override` paths, lowest layer first; empty in the usual
    /// catalogue, which then costs nothing to ask.
    pub(super) floors: Vec<Floor<'a>>,
}

impl<'a> Layers<'a> {
    pub(super) fn new(layers: Vec<LayerRef<'a>>, provenance: bool) -> Self {
        let floors: Vec<Floor<'a>> = layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.spec.floors().map(move |(path, _)| Floor {
                    layer: i,
                    path,
                    origin: l.origin,
                })
            })
            .collect();
        let mut provenance = provenance.then(IndexMap::new);
        // What a layer removed or replaced, for `explain`: `!reset KEY`, `!override KEY`.
        if let Some(provenance) = &mut provenance {
            for f in &floors {
                let how = if layers[f.layer].spec.sets(&f.path) {
                    "override"
                } else {
                    "reset"
                };
                provenance.insert(format!("!{how} {}", f.path), f.origin.to_layer());
            }
        }
        Layers {
            layers,
            provenance,
            floors,
        }
    }

    /// The lowest layer that counts for `key` (and `below` it): the highest one that resets
    /// or overrides it or a table it is in, else the lowest of all.
    pub(super) fn floor(&self, key: &str, below: &[&str]) -> usize {
        self.floors
            .iter()
            .filter(|f| f.path.covers(key, below))
            .map(|f| f.layer)
            .max()
            .unwrap_or(0)
    }

    /// The layers that count for `key`, lowest first.
    pub(super) fn counted(&self, key: &str) -> &[LayerRef<'a>] {
        &self.layers[self.floor(key, &[])..]
    }

    /// Notes that `layer` set `key`. The key is built only when provenance is kept.
    pub(super) fn record(&mut self, key: impl FnOnce() -> String, layer: impl FnOnce() -> Layer) {
        if let Some(provenance) = &mut self.provenance {
            provenance.insert(key(), layer());
        }
    }

    /// The highest layer's value of one key.
    pub(super) fn pick<T: ?Sized>(
        &mut self,
        key: &str,
        get: impl Fn(&'a ServiceSpec) -> Option<&'a T>,
    ) -> Option<(&'a T, SourceId)> {
        let (value, origin, source) = self.highest(key, get)?;
        self.record(|| key.to_owned(), || origin.to_layer());
        Some((value, source))
    }

    /// The highest value of `key` among the layers that count for it, with its layer.
    pub(super) fn highest<T: ?Sized>(
        &self,
        key: &str,
        get: impl Fn(&'a ServiceSpec) -> Option<&'a T>,
    ) -> Option<(&'a T, Origin<'a>, SourceId)> {
        self.highest_below(key, &[], get)
    }

    /// As [`Layers::highest`], for a value below `key` (a healthcheck's `interval`).
    pub(super) fn highest_below<T: ?Sized>(
        &self,
        key: &str,
        below: &[&str],
        get: impl Fn(&'a ServiceSpec) -> Option<&'a T>,
    ) -> Option<(&'a T, Origin<'a>, SourceId)> {
        self.layers[self.floor(key, below)..]
            .iter()
            .rev()
            .find_map(|l| get(l.spec).map(|v| (v, l.origin, l.source)))
    }

    /// A map merged key by key across layers, each entry's provenance kept.
    pub(super) fn merge_map(
        &mut self,
        key: &str,
        get: impl Fn(&'a ServiceSpec) -> Option<&'a IndexMap<String, Spanned<Scalar>>>,
    ) -> IndexMap<String, String> {
        let mut merged = IndexMap::new();
        let whole = self.floor(key, &[]);
        for (i, l) in self.layers.iter().enumerate().skip(whole) {
            for (k, v) in get(l.spec).into_iter().flatten() {
                if !self.floors.is_empty() && i < self.floor(key, &[k]) {
                    continue;
                }
                merged.insert(k.clone(), v.get_ref().0.clone());
                if let Some(provenance) = &mut self.provenance {
                    provenance.insert(format!("{key}.{k}"), l.origin.to_layer());
                }
            }
        }
        merged
    }

    /// A list appended across layers: each layer's items after the lower layers', an item
    /// whose `unique` key an earlier one has taking that one's place. Each item's provenance is
    /// kept as `key[item]`.
    pub(super) fn merge_list(
        &mut self,
        key: &str,
        get: impl Fn(&'a ServiceSpec) -> Option<&'a Vec<Spanned<String>>>,
    ) -> Vec<(&'a Spanned<String>, SourceId)> {
        let unique = match crate::merge::rule(key).map(|r| r.rule) {
            Some(Rule::Append(unique)) => unique,
            // A key that replaces: the highest layer's list, whole.
            _ => {
                return self
                    .pick(key, get)
                    .map(|(list, source)| list.iter().map(|i| (i, source)).collect())
                    .unwrap_or_default();
            }
        };
        let mut merged: Vec<(&'a Spanned<String>, SourceId)> = Vec::new();
        let floor = self.floor(key, &[]);
        for l in &self.layers[floor..] {
            for item in get(l.spec).into_iter().flatten() {
                let id = crate::merge::unique_key(unique, item.get_ref());
                match merged
                    .iter_mut()
                    .find(|(m, _)| crate::merge::unique_key(unique, m.get_ref()) == id)
                {
                    Some(slot) => *slot = (item, l.source),
                    None => merged.push((item, l.source)),
                }
                if let Some(provenance) = &mut self.provenance {
                    provenance.insert(format!("{key}[{}]", item.get_ref()), l.origin.to_layer());
                }
            }
        }
        merged
    }

    /// `env_file`, appended across layers as `merge_list` appends: a path named again is
    /// read once.
    pub(super) fn merge_env_file(&mut self) -> Vec<String> {
        let mut merged: Vec<String> = Vec::new();
        let floor = self.floor("env_file", &[]);
        for l in &self.layers[floor..] {
            let files: &[String] = match &l.spec.env_file {
                Some(Command::Line(file)) => std::slice::from_ref(file),
                Some(Command::Argv(files)) => files,
                None => &[],
            };
            for file in files {
                if !merged.contains(file) {
                    merged.push(file.clone());
                }
                if let Some(provenance) = &mut self.provenance {
                    provenance.insert(format!("env_file[{file}]"), l.origin.to_layer());
                }
            }
        }
        merged
    }

    /// `build` merged key by key, as Compose merges it: a string is a table with its
    /// `context`, and `args` merge by name. The source and span are the highest layer's.
    pub(super) fn merge_build(&mut self) -> Option<(Spanned<Build>, SourceId)> {
        let mut merged: Option<(Build, SourceId, std::ops::Range<usize>)> = None;
        let floor = |field: &str| self.floor("build", &[field]);
        let (dockerfile, inline, target, args) = (
            floor("dockerfile"),
            floor("dockerfile_inline"),
            floor("target"),
            floor("args"),
        );
        let mut record = Vec::new();
        for (i, l) in self
            .layers
            .iter()
            .enumerate()
            .skip(self.floor("build", &[]))
        {
            let Some(build) = &l.spec.build else { continue };
            let b = build.get_ref();
            let (slot, ..) = merged.get_or_insert_with(|| {
                (
                    Build {
                        context: String::new(),
                        dockerfile: None,
                        dockerfile_inline: None,
                        target: None,
                        args: None,
                    },
                    l.source,
                    build.span(),
                )
            });
            slot.context.clone_from(&b.context);
            record.push(("build".to_owned(), l.origin));
            if b.dockerfile.is_some() && i >= dockerfile {
                slot.dockerfile.clone_from(&b.dockerfile);
                record.push(("build.dockerfile".to_owned(), l.origin));
            }
            if b.dockerfile_inline.is_some() && i >= inline {
                slot.dockerfile_inline.clone_from(&b.dockerfile_inline);
                record.push(("build.dockerfile_inline".to_owned(), l.origin));
            }
            if b.target.is_some() && i >= target {
                slot.target.clone_from(&b.target);
                record.push(("build.target".to_owned(), l.origin));
            }
            if let Some(new) = b.args.as_ref().filter(|_| i >= args) {
                let all = slot.args.get_or_insert_with(IndexMap::new);
                for (k, v) in new {
                    all.insert(k.clone(), v.clone());
                    record.push((format!("build.args.{k}"), l.origin));
                }
            }
            let highest = merged.as_mut().expect("set above");
            highest.1 = l.source;
            highest.2 = build.span();
        }
        for (key, origin) in record {
            self.record(|| key, || origin.to_layer());
        }
        merged.map(|(b, source, span)| (Spanned::new(span, b), source))
    }

    /// `models` merged by model, each binding's variables key by key.
    pub(super) fn merge_models(&mut self) -> Vec<MergedModel<'a>> {
        let mut merged: Vec<MergedModel<'a>> = Vec::new();
        let whole = self.floor("models", &[]);
        for (i, l) in self.layers.iter().enumerate().skip(whole) {
            let Some(bindings) = &l.spec.models else {
                continue;
            };
            for (name, binding) in bindings.get_ref().entries() {
                if !self.floors.is_empty() && i < self.floor("models", &[name.get_ref()]) {
                    continue;
                }
                let at = match merged
                    .iter()
                    .position(|m| m.name.get_ref() == name.get_ref())
                {
                    Some(at) => at,
                    None => {
                        merged.push(MergedModel {
                            name,
                            source: l.source,
                            binding: ModelBinding::default(),
                        });
                        merged.len() - 1
                    }
                };
                let m = &mut merged[at];
                m.name = name;
                m.source = l.source;
                if let Some(b) = binding {
                    if b.endpoint_var.is_some() {
                        m.binding.endpoint_var.clone_from(&b.endpoint_var);
                    }
                    if b.model_var.is_some() {
                        m.binding.model_var.clone_from(&b.model_var);
                    }
                }
                if let Some(provenance) = &mut self.provenance {
                    provenance.insert(format!("models.{}", name.get_ref()), l.origin.to_layer());
                }
            }
        }
        merged
    }

    /// `depends_on` merged by service, each dependency's condition, `restart` and `required`
    /// from the highest layer that says: a layer's list names services and leaves their
    /// conditions to the layers below, or to inference.
    pub(super) fn merge_depends_on(&mut self) -> Vec<MergedDependency<'a>> {
        let mut merged: Vec<MergedDependency<'a>> = Vec::new();
        let whole = self.floor("depends_on", &[]);
        for (i, l) in self.layers.iter().enumerate().skip(whole) {
            let Some(deps) = &l.spec.depends_on else {
                continue;
            };
            for (target, entry) in deps.get_ref().entries() {
                if !self.floors.is_empty() && i < self.floor("depends_on", &[target.get_ref()]) {
                    continue;
                }
                let at = match merged
                    .iter()
                    .position(|d| d.target.get_ref() == target.get_ref())
                {
                    Some(at) => at,
                    None => {
                        merged.push(MergedDependency {
                            target,
                            source: l.source,
                            origin: l.origin,
                            condition: None,
                            restart: None,
                            required: None,
                        });
                        merged.len() - 1
                    }
                };
                let d = &mut merged[at];
                d.target = target;
                d.source = l.source;
                d.origin = l.origin;
                let Some(entry) = entry else { continue };
                let e = entry.get_ref();
                let written = Written {
                    layer: l.origin,
                    source: l.source,
                    target: target.span(),
                };
                if let Some(word) = &e.condition {
                    let span = e.condition_span.clone().unwrap_or(entry.span());
                    d.condition = Some((word, span, written.clone()));
                }
                if let Some(r) = e.options.restart {
                    d.restart = Some((r, written.clone()));
                }
                if let Some(r) = e.options.required {
                    d.required = Some((r, written));
                }
            }
        }
        if let Some(provenance) = &mut self.provenance {
            for d in &merged {
                let target = d.target.get_ref();
                provenance.insert(format!("depends_on.{target}"), d.origin.to_layer());
                for (option, at) in [
                    ("condition", d.condition.as_ref().map(|c| &c.2)),
                    ("restart", d.restart.as_ref().map(|r| &r.1)),
                    ("required", d.required.as_ref().map(|r| &r.1)),
                ] {
                    if let Some(at) = at {
                        provenance
                            .insert(format!("depends_on.{target}.{option}"), at.layer.to_layer());
                    }
                }
            }
        }
        merged
    }

    /// `env` merged key by key as [`Layers::merge_map`] merges a map: the plain values, and the
    /// variables a layer gives as a secret with where it says so. A higher layer's value
    /// replaces a lower one's of either kind, so that `profiles.prod` may turn a development
    /// password into a secret.
    pub(super) fn merge_env(&mut self) -> (IndexMap<String, String>, SecretVariables<'a>) {
        let mut plain = IndexMap::new();
        let mut secrets = IndexMap::new();
        let whole = self.floor("env", &[]);
        for (i, l) in self.layers.iter().enumerate().skip(whole) {
            for (k, v) in l.spec.env.iter().flatten() {
                // `reset = ["env.X"]` or `override` in a higher layer: this one's X does not count.
                if !self.floors.is_empty() && i < self.floor("env", &[k]) {
                    continue;
                }
                match v.get_ref() {
                    EnvValue::Plain(value) => {
                        secrets.shift_remove(k);
                        plain.insert(k.clone(), value.0.clone());
                    }
                    EnvValue::Secret(secret) => {
                        plain.shift_remove(k);
                        secrets.insert(k.clone(), (secret, l.source));
                    }
                }
                if let Some(provenance) = &mut self.provenance {
                    provenance.insert(format!("env.{k}"), l.origin.to_layer());
                }
            }
        }
        (plain, secrets)
    }

    pub(super) fn healthcheck_field<T: ?Sized>(
        &mut self,
        key: HealthKey,
        get: impl Fn(&'a HealthcheckSpec) -> Option<&'a T>,
    ) -> Option<(&'a T, SourceId)> {
        let (value, origin, source) = self.highest_below("healthcheck", &[key.name()], |s| {
            s.healthcheck.as_ref().and_then(&get)
        })?;
        self.record(|| key.path().to_owned(), || origin.to_layer());
        Some((value, source))
    }

    /// The Compose paths of the kind template's output that a layer resets or overrides: the
    /// template is the lowest layer, so any of them removes what it wrote there.
    pub(super) fn template_resets(&self) -> Vec<Vec<String>> {
        self.floors
            .iter()
            .filter_map(|f| f.path.compose_path())
            .collect()
    }
}

/// A model binding merged across layers.
pub(super) struct MergedModel<'a> {
    /// As the highest layer naming it writes it.
    pub(super) name: &'a Spanned<String>,
    pub(super) source: SourceId,
    pub(super) binding: ModelBinding,
}

/// A dependency merged across layers.
pub(super) struct MergedDependency<'a> {
    /// As the highest layer naming it writes it.
    pub(super) target: &'a Spanned<String>,
    pub(super) source: SourceId,
    pub(super) origin: Origin<'a>,
    /// The condition's word, where it is written, and the layer.
    pub(super) condition: Option<(&'a String, std::ops::Range<usize>, Written<'a>)>,
    pub(super) restart: Option<(bool, Written<'a>)>,
    pub(super) required: Option<(bool, Written<'a>)>,
}

impl MergedDependency<'_> {
    /// The options its layers wrote for it.
    pub(super) fn options(&self) -> crate::spec::DependencyOptions {
        crate::spec::DependencyOptions {
            restart: self.restart.as_ref().map(|r| r.0),
            required: self.required.as_ref().map(|r| r.0),
        }
    }
}

/// Which layer wrote a part of a merged dependency, and at which mention of the target.
#[derive(Clone)]
pub(super) struct Written<'a> {
    pub(super) layer: Origin<'a>,
    pub(super) source: SourceId,
    pub(super) target: std::ops::Range<usize>,
}

/// The layer stack of one entry, lowest first (see the module documentation).
pub(super) fn layer_stack<'a>(
    entry: &'a Entry,
    kind: &Kind,
    catalogue: SourceId,
    profiles: &[&'a Profile],
) -> Vec<LayerRef<'a>> {
    let mut layers: Vec<LayerRef<'a>> = profiles
        .iter()
        .map(|p| LayerRef {
            origin: Origin::Profile(&p.name),
            source: p.source,
            spec: &p.file.defaults,
        })
        .collect();
    layers.extend(profiles.iter().filter_map(|p| {
        p.file
            .kinds
            .iter()
            .find(|(k, _)| k.get_ref() == &kind.name)
            .map(|(_, spec)| LayerRef {
                origin: Origin::ProfileKind(&p.name),
                source: p.source,
                spec,
            })
    }));
    layers.push(LayerRef {
        origin: Origin::Catalogue,
        source: catalogue,
        spec: &entry.spec,
    });
    if let Some(overrides) = &entry.spec.profiles {
        for p in profiles {
            if let Some(spec) = overrides.get(&p.name) {
                layers.push(LayerRef {
                    origin: Origin::Override(&p.name),
                    source: catalogue,
                    spec: spec.get_ref(),
                });
            }
        }
    }
    // Measured timings go over every layer that guessed them, the entry's own included.
    for p in profiles {
        if let Some((_, timing)) = p
            .file
            .services
            .iter()
            .find(|(name, _)| name.get_ref() == entry.name.get_ref())
        {
            let date = p.file.measured.as_ref().map_or("", |m| m.date.as_str());
            layers.push(LayerRef {
                origin: Origin::Measured(&p.name, date),
                source: p.source,
                spec: &timing.layer,
            });
        }
    }
    layers
}
