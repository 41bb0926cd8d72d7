//! Every probe muster emits calls only programs its image has, for every image in muster's table
//! (`images::IMAGES`), on its default tag and on each tag variant (`-alpine`, `-slim`, ...) where
//! the table says the tools differ. An image whose tools cannot run the kind's probe must be refused, never emitted.

mod common;

use common::Muster;
use muster::images::{IMAGES, ImageFacts, ImageRef, StartNeeds};
use muster::kinds::Kinds;

/// The kind that runs an image: its engine's kind, or `http` for images of the team's own code.
fn kind_of(facts: &ImageFacts) -> String {
    let kinds = Kinds::built_in();
    match facts.engine {
        Some(engine) => kinds
            .iter()
            .find(|k| k.engines.contains(&engine))
            .map(|k| k.name.clone())
            .expect("every engine belongs to a kind"),
        None => "http".to_owned(),
    }
}

/// Every image reference the table describes, with a tag: the default and each variant.
fn references() -> Vec<(String, &'static ImageFacts)> {
    let mut refs = Vec::new();
    for facts in IMAGES {
        for repository in facts.repositories {
            // A family named by prefix (`distroless/*`): one member of it.
            let repository = repository.replace('*', "x");
            refs.push((format!("{repository}:1.0"), facts));
            // The newest release, where the variants are release ranges.
            if facts
                .variants
                .iter()
                .any(|v| matches!(v.tags, muster::images::Tags::Between { .. }))
            {
                refs.push((format!("{repository}:latest"), facts));
            }
            for variant in facts.variants {
                refs.push((format!("{repository}:{}", variant.tags.example()), facts));
            }
        }
    }
    refs
}

#[test]
fn every_emitted_probe_uses_only_tools_its_image_has() {
    let mut checked = 0;
    let mut refused = Vec::new();
    let mut mounted = Vec::new();
    for (reference, facts) in references() {
        // What the image needs to start at all, so that only the probe is judged.
        let needs = match facts.start {
            Some(StartNeeds::AnyVariable { vars, .. }) => {
                let (name, value) = vars[0];
                format!("env = {{ {name} = \"{}\" }}\n", value.unwrap_or("x"))
            }
            Some(StartNeeds::Command { example, .. }) => format!("command = \"{example}\"\n"),
            None => String::new(),
        };
        let catalogue = format!(
            "[services.s]\nkind = \"{}\"\nimage = \"{reference}\"\n{needs}",
            kind_of(facts)
        );
        let run = Muster::new().catalogue(&catalogue).args(&["gen"]).run();
        if run.code != 0 {
            // Refusing is right only for the reason under test, and only where a tool is missing.
            assert!(
                run.stderr.contains("does not have") || run.stderr.contains("the image has no"),
                "{reference} refused for another reason:\n{}",
                run.stderr
            );
            refused.push(reference);
            continue;
        }
        let test = run.test("s");
        let tools = facts.tools_for(&ImageRef::parse(&reference));
        for program in muster::probe::programs(&test) {
            // The mounted client is muster's own, in a mount the file adds; it is the choice
            // only where the image has no client of its own.
            if program == muster::mounted_probe::PROGRAM {
                let clients = ["curl", "wget", "python", "bash"];
                assert!(
                    !clients.iter().any(|c| tools.contains(c)),
                    "{reference}: the mounted client where the image has one of its own: {tools:?}"
                );
                mounted.push(reference.clone());
                continue;
            }
            assert!(
                tools.contains(&program.as_str()),
                "{reference}: the probe runs `{program}`, which the image lacks (it has {tools:?}): {test:?}"
            );
        }
        checked += 1;
    }
    assert!(
        checked >= IMAGES.len(),
        "only {checked} images were checked"
    );
    // memcached's probe is bash /dev/tcp, and busybox has no bash: the alpine tag is refused.
    assert_eq!(refused, ["memcached:1.0-alpine"]);
    // Distroless has no shell and no client at all (its debug tags have busybox wget), and nor
    // have the OpenTelemetry Collector (FROM scratch), Loki from 3.6, Tempo from 2.10 (their
    // `latest`) or MinIO's releases from 2023-11-01 to 2024-03-29: the mounted client probes
    // them.
    assert_eq!(
        mounted,
        [
            "minio/minio:RELEASE.2023-11-01T01-57-10Z",
            "grafana/loki:latest",
            "grafana/tempo:latest",
            "otel/opentelemetry-collector:1.0",
            "otel/opentelemetry-collector-contrib:1.0",
            "otel/opentelemetry-collector-k8s:1.0",
            "distroless/x:1.0",
        ]
    );
}
