//! Minimize: the draft run through the real pipeline, and whatever muster generates anyway
//! left out.

use super::{CatalogueDraft, DraftEntry};
use crate::catalogue::Catalogue;
use crate::config::Inputs;
use crate::diagnostic::Diagnostics;
use crate::error::Error;
use crate::kinds::Kinds;
use crate::pipeline::{self, Session};
use crate::profile::Profiles;
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};
use indexmap::IndexMap;

impl CatalogueDraft {
    /// Leaves out what muster generates anyway. Each pass runs the real pipeline on the draft
    /// as it stands; when a pass cannot run (the source itself has a problem muster reports),
    /// the entries keep every value explicitly.
    pub(super) fn minimize(&mut self, inputs: &Inputs, profile: &str) -> Result<(), Error> {
        // Read once: every pass runs the draft's text through the I/O-free pipeline.
        let mut session = Session::default();
        let profiles = Profiles::load(
            Some(&inputs.profiles_dir),
            &mut session.sources,
            &mut session.diagnostics,
        )?;
        let kinds = Kinds::built_in().with_user_templates(&inputs.templates_dir)?;
        let mut scratch = Scratch {
            session,
            profiles: &profiles,
            kinds: &kinds,
            inputs,
            profile,
        };
        // Pass 1: without the values a profile or template may give, to see which they give.
        let bare = scratch.run(self, Pass::Bare);
        // One service muster refuses must not take every other's inference with it: each is
        // then run alone, without its dependencies (their conditions are kept as written).
        let alone: Vec<Option<Stack>> = match bare {
            Some(_) => Vec::new(),
            None => (0..self.entries.len())
                .map(|i| scratch.run(&self.alone(i), Pass::Bare))
                .collect(),
        };
        for (i, entry) in self.entries.iter_mut().enumerate() {
            let generated = match &bare {
                Some(stack) => stack.services.get(i),
                None => alone[i].as_ref().and_then(|s| s.services.first()),
            };
            entry.settle(generated);
        }
        // A dependency the source asks to be healthy, on a service left to its image's own
        // HEALTHCHECK (`probe = "image"`), is said as such: muster cannot know that the image
        // has one, so a list would wait only for the start.
        let image_probed: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.keys.get("probe").and_then(Yaml::as_str) == Some("image"))
            .map(|e| e.name.clone())
            .collect();
        for entry in &mut self.entries {
            let healthy_on_image = entry
                .depends_on
                .iter()
                .any(|(t, c)| c == "service_healthy" && image_probed.contains(t));
            if healthy_on_image && matches!(entry.keys.get("depends_on"), Some(Yaml::Sequence(_))) {
                entry.keep_depends_on_explicit();
            }
        }
        // Pass 2: everything settled but the probe, which depends on the timeout settled above.
        let settled = scratch.run(self, Pass::Settled);
        for (i, entry) in self.entries.iter_mut().enumerate() {
            let generated = settled.as_ref().and_then(|s| s.services.get(i));
            entry.settle_test(generated);
        }
        if scratch.run(self, Pass::Final).is_none() {
            self.notes.push(format!(
                "`muster gen --profile {profile}` finds errors in this draft: `muster check` \
                 shows them"
            ));
        }
        Ok(())
    }
}

impl CatalogueDraft {
    /// The draft of entry `i` alone, without its dependencies.
    fn alone(&self, i: usize) -> CatalogueDraft {
        let mut entry = self.entries[i].clone();
        entry.depends_on.clear();
        entry.keys.remove("depends_on");
        CatalogueDraft {
            project_name: self.project_name.clone(),
            entries: vec![entry],
            resources: self.resources.clone(),
            notes: Vec::new(),
        }
    }
}

/// What every pass shares: the profiles and kinds, read once, and a session whose diagnostics
/// nobody prints.
struct Scratch<'a> {
    session: Session,
    profiles: &'a Profiles,
    kinds: &'a Kinds,
    inputs: &'a Inputs,
    profile: &'a str,
}

impl Scratch<'_> {
    /// The draft through the pipeline: `None` when it has errors.
    fn run(&mut self, draft: &CatalogueDraft, pass: Pass) -> Option<Stack> {
        // Each pass is judged alone: an earlier pass's errors must not fail this one.
        self.session.diagnostics = Diagnostics::default();
        let catalogue = Catalogue::parse(
            &self.inputs.catalogue,
            draft.catalogue(pass, self.profile),
            &mut self.session.sources,
            &mut self.session.diagnostics,
        );
        let stack = pipeline::build(
            catalogue,
            self.profiles,
            self.kinds,
            Some(self.profile),
            self.inputs.provenance,
            &mut self.session,
        )
        .ok();
        // Every service must come through for the comparison to mean anything.
        stack.filter(|s| s.services.len() == draft.entries.len())
    }
}

/// Which values a pipeline pass sees.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    /// No restart, command, healthcheck or passthrough: what profile and template give alone.
    Bare,
    /// Settled values, but the probe left to the template.
    Settled,
    /// The draft as written.
    Final,
}

impl DraftEntry {
    /// Keys left to the profile and the template in [`Pass::Bare`].
    pub(super) const LEFT_OUT: [&'static str; 4] =
        ["restart", "command", "healthcheck", "depends_on"];

    /// Whether the source's image refuses to start without a command of its own (MinIO's
    /// `server DIR`): no pass may leave it out, and no template gives it.
    pub(super) fn image_needs_command(&self) -> bool {
        let image = self.source.get("image").and_then(Yaml::as_str);
        image
            .and_then(|i| crate::images::lookup(&crate::images::ImageRef::parse(i)))
            .is_some_and(|row| matches!(row.start, Some(crate::images::StartNeeds::Command { .. })))
    }

    /// Compares the source with what muster generated without the settable values, and keeps
    /// only the values that differ. `generated` is `None` when the bare draft did not render.
    fn settle(&mut self, generated: Option<&StackService>) {
        let Some(generated) = generated else {
            self.keep_depends_on_explicit();
            // Whatever muster made of the kind, a source without a healthcheck runs the
            // image's own, if any; the kind's probe may be what muster refused here.
            if !self.source.contains_key("healthcheck") && self.kind != "job" {
                self.set("probe", Yaml::from("image"));
            }
            return;
        };
        let body = generated.rendered.body.mapping();
        for key in ["restart", "command"] {
            match (self.source.get(key), body.get(key)) {
                (Some(s), Some(g))
                    if s == g && !(key == "command" && self.image_needs_command()) =>
                {
                    self.keys.remove(key);
                }
                // Docker's default, said explicitly since the profile sets another.
                (None, Some(_)) if key == "restart" => self.set("restart", Yaml::from("no")),
                (None, Some(_)) => self.notes.push(format!(
                    "the `{}` template sets a `{key}` the source did not have",
                    self.kind
                )),
                _ => {}
            }
        }
        // Dependencies: the list form when muster infers every condition the source asks for.
        let inferred: IndexMap<&str, &str> = generated
            .depends_on
            .iter()
            .map(|e| (e.target.as_str(), e.condition.compose_name()))
            .collect();
        if self.dependency_options.is_empty()
            && self
                .depends_on
                .iter()
                .all(|(t, c)| inferred.get(t.as_str()) == Some(&c.as_str()))
        {
            if !self.depends_on.is_empty() {
                let list = self
                    .depends_on
                    .iter()
                    .map(|(t, _)| Yaml::from(t.as_str()))
                    .collect();
                self.set("depends_on", Yaml::Sequence(list));
            }
        } else {
            self.keep_depends_on_explicit();
            let started: Vec<&str> = self
                .depends_on
                .iter()
                .filter(|(t, c)| {
                    c == "service_started" && inferred.get(t.as_str()) != Some(&"service_started")
                })
                .map(|(t, _)| t.as_str())
                .collect();
            if !started.is_empty() {
                self.notes.push(format!(
                    "the source waits only for {} to start; as a list, muster would wait for \
                     each to be ready (healthy, or completed for a job)",
                    started.join(", ")
                ));
            }
        }
        // Before the healthcheck is settled: one kept for the image's own HEALTHCHECK goes
        // under `compose`, and must not be subtracted from the template's probe.
        subtract(&mut self.compose, body);
        self.settle_healthcheck(body.get("healthcheck"));
        for key in body.keys().filter_map(Yaml::as_str) {
            let modelled = matches!(key, "depends_on" | "healthcheck" | "restart" | "command");
            if !modelled && !self.source.contains_key(key) && !self.keys.contains_key(key) {
                self.notes.push(format!(
                    "the profile or the `{}` template adds `{key}`, which the source did not have",
                    self.kind
                ));
            }
        }
    }

    pub(super) fn keep_depends_on_explicit(&mut self) {
        if self.depends_on.is_empty() {
            return;
        }
        let table = self
            .depends_on
            .iter()
            .map(|(t, c)| {
                let word = c.strip_prefix("service_").unwrap_or(c);
                let word = if word == "completed_successfully" {
                    "completed"
                } else {
                    word
                };
                let value = match self.dependency_options.get(t) {
                    // The long form, with the options the source gives the dependency.
                    Some(options) => {
                        let mut long = Mapping::new();
                        long.insert("condition".into(), Yaml::from(word));
                        long.extend(options.clone());
                        Yaml::Mapping(long)
                    }
                    None => Yaml::from(word),
                };
                (Yaml::from(t.as_str()), value)
            })
            .collect();
        self.set("depends_on", Yaml::Mapping(table));
    }

    /// Healthcheck timings equal to the profile's are left out, and Docker's defaults written
    /// where the source's own test relied on them; a source without a healthcheck keeps the
    /// image's.
    fn settle_healthcheck(&mut self, generated: Option<&Yaml>) {
        let generated_test = generated.and_then(|g| g.get("test"));
        // A source healthcheck without a test (`disable: false`, or timings alone) tunes the
        // image's own HEALTHCHECK: it is kept as written, over no probe of muster's.
        let tunes_image = match self.keys.get("healthcheck") {
            Some(Yaml::Mapping(hc)) => {
                !hc.contains_key("test") && hc.get("disable") != Some(&Yaml::Bool(true))
            }
            _ => false,
        };
        if tunes_image && let Some(hc) = self.keys.remove("healthcheck") {
            self.compose.insert("healthcheck".into(), hc);
        }
        let Some(Yaml::Mapping(hc)) = self.keys.get_mut("healthcheck") else {
            if generated_test.is_some() {
                // Disabling would also turn off a HEALTHCHECK the image declares; the kind's
                // probe might not pass in this image. Neither was in the source.
                self.notes.push(format!(
                    "the source has no healthcheck of its own: `probe = \"image\"` keeps the \
                     image's HEALTHCHECK, if it has one; remove it for the `{}` kind's probe",
                    self.kind
                ));
                self.set("probe", Yaml::from("image"));
            }
            return;
        };
        // The profile's timings apply only where a test is rendered.
        if generated_test.is_some() {
            for key in crate::model::HealthKey::TIMINGS.map(crate::model::HealthKey::name) {
                let same = match (hc.get(key), generated.and_then(|g| g.get(key))) {
                    (Some(Yaml::String(a)), Some(Yaml::String(b))) => {
                        crate::model::duration::parse(a).ok()
                            == crate::model::duration::parse(b).ok()
                    }
                    (a, b) => a.is_some() && a == b,
                };
                if same {
                    hc.remove(key);
                }
            }
            // A test of the source's own ran with Docker's timing where it set none; the
            // profile's would probe it on another cadence and give it less time to answer
            // (5s where a slow probe had 30s). The start keys stay the profile's: they only
            // let a service be seen healthy sooner.
            let source = self.source.get("healthcheck").and_then(Yaml::as_mapping);
            let disabled = hc.contains_key("disable");
            if let Some(source) = source.filter(|s| s.contains_key("test") && !disabled) {
                let defaults = [
                    ("interval", Yaml::from("30s")),
                    ("timeout", Yaml::from("30s")),
                    ("retries", Yaml::from(3u64)),
                ];
                for (key, default) in defaults {
                    let generated = generated.and_then(|g| g.get(key));
                    let differs = match (generated, &default) {
                        (Some(Yaml::String(g)), Yaml::String(d)) => {
                            crate::model::duration::parse(g).ok()
                                != crate::model::duration::parse(d).ok()
                        }
                        (Some(g), d) => g != d,
                        (None, _) => false,
                    };
                    if !source.contains_key(key) && differs {
                        hc.insert(key.into(), default);
                    }
                }
            }
        }
        if hc.is_empty() {
            self.keys.remove("healthcheck");
        }
    }

    /// Keeps the source's test only when the template renders another one.
    fn settle_test(&mut self, generated: Option<&StackService>) {
        let Some(source_test) = self.test().cloned() else {
            return;
        };
        let generated_test = generated
            .and_then(|g| g.rendered.body.get("healthcheck"))
            .and_then(|h| h.get("test"));
        let hc = match self.keys.get_mut("healthcheck") {
            Some(Yaml::Mapping(hc)) => hc,
            _ => return,
        };
        if generated_test == Some(&source_test) {
            hc.remove("test");
            if hc.is_empty() {
                self.keys.remove("healthcheck");
            }
        } else if generated.is_some() {
            // The source's own probe replaces the template's; a client picked to match it
            // would now only be checked against the image.
            self.keys.remove("probe");
        }
    }
}

/// Removes from `compose` every value `generated` already has at the same place, and the
/// tables left empty.
fn subtract(compose: &mut Mapping, generated: &Mapping) {
    compose.retain(|key, value| {
        let Some(g) = generated.get(key) else {
            return true;
        };
        match (value, g) {
            (Yaml::Mapping(c), Yaml::Mapping(g)) => {
                subtract(c, g);
                !c.is_empty()
            }
            (c, g) => c != g,
        }
    });
}
