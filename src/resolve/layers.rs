//! The layers of one service and the provenance they record as values are picked from them.

use crate::catalogue::Entry;
use crate::diagnostic::SourceId;
use crate::kinds::Kind;
use crate::model::HealthKey;
use crate::profile::Profile;
use crate::spec::{HealthcheckSpec, Scalar, ServiceSpec};
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
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Layer::KindDefault => f.write_str("kind default"),
            Layer::Profile(p) => write!(f, "profile {p} [defaults]"),
            Layer::ProfileKind(p) => write!(f, "profile {p} [kinds]"),
            Layer::Catalogue => f.write_str("catalogue"),
            Layer::Override(p) => write!(f, "catalogue profiles.{p}"),
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
}

impl<'a> Origin<'a> {
    pub(super) fn is_profile(self) -> bool {
        self.profile().is_some()
    }

    /// The profile whose `[defaults]` or `[kinds.KIND]` this is.
    pub(super) fn profile(self) -> Option<&'a str> {
        match self {
            Origin::Profile(p) | Origin::ProfileKind(p) => Some(p),
            Origin::Catalogue | Origin::Override(_) => None,
        }
    }

    pub(super) fn to_layer(self) -> Layer {
        match self {
            Origin::Profile(p) => Layer::Profile(p.to_owned()),
            Origin::ProfileKind(p) => Layer::ProfileKind(p.to_owned()),
            Origin::Catalogue => Layer::Catalogue,
            Origin::Override(p) => Layer::Override(p.to_owned()),
        }
    }
}

pub(super) struct LayerRef<'a> {
    pub(super) origin: Origin<'a>,
    pub(super) source: SourceId,
    pub(super) spec: &'a ServiceSpec,
}

/// The layers of one service, with the provenance they produce as keys are picked.
pub(super) struct Layers<'a> {
    pub(super) layers: Vec<LayerRef<'a>>,
    /// `None` when the caller does not read provenance: recording it costs a key and a layer
    /// per value, and most of resolve's time when nothing asks for it.
    pub(super) provenance: Option<IndexMap<String, Layer>>,
}

impl<'a> Layers<'a> {
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
        let (value, origin, source) = self.highest(get)?;
        self.record(|| key.to_owned(), || origin.to_layer());
        Some((value, source))
    }

    pub(super) fn highest<T: ?Sized>(
        &self,
        get: impl Fn(&'a ServiceSpec) -> Option<&'a T>,
    ) -> Option<(&'a T, Origin<'a>, SourceId)> {
        self.layers
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
        for l in &self.layers {
            for (k, v) in get(l.spec).into_iter().flatten() {
                merged.insert(k.clone(), v.get_ref().0.clone());
                if let Some(provenance) = &mut self.provenance {
                    provenance.insert(format!("{key}.{k}"), l.origin.to_layer());
                }
            }
        }
        merged
    }

    pub(super) fn healthcheck_field<T: ?Sized>(
        &mut self,
        key: HealthKey,
        get: impl Fn(&'a HealthcheckSpec) -> Option<&'a T>,
    ) -> Option<(&'a T, SourceId)> {
        let (value, origin, source) = self.highest(|s| s.healthcheck.as_ref().and_then(&get))?;
        self.record(|| key.path().to_owned(), || origin.to_layer());
        Some((value, source))
    }
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
    layers
}
