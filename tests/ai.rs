//! The AI platform's Compose features, judged by the Compose loaders themselves: what muster
//! writes for `gpus`, `models` and the model cache is read back through `docker-compose config`
//! (Compose 2.40.3, and Debian 13's 2.26.1 for the older GPU form), and the
//! normalized model Compose prints is what is checked, not muster's text.
//!
//! No GPU and no Docker Model Runner exist on the test machine, so nothing here starts a model;
//! `tests/engine.rs` records what the engine says to a GPU request it cannot serve.

mod common;

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// `docker-compose config` of `file`: Compose's normalized model of it. In YAML, which has
/// all of it: 2.40.3's `--format json` leaves the top-level `models` out.
fn normalized(compose: &mut std::process::Command, file: &Path) -> Value {
    let out = compose
        .arg("-f")
        .arg(file)
        .arg("config")
        .output()
        .expect("docker-compose runs");
    assert!(
        out.status.success(),
        "Compose refused {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    yaml_serde::from_slice(&out.stdout).expect("Compose prints YAML")
}

const ONE_ENTRY: &str = r#"
[models.llm]
model = "ai/smollm2"
context_size = 8192

[services.assistant]
kind = "ai-model"
build = "./assistant"
gpus = 1
models = { llm = { endpoint_var = "LLM_URL", model_var = "LLM_MODEL" } }

[services.ollama]
kind = "ai-model"
image = "ollama/ollama:0.6.8"
gpus = "all"
"#;

#[test]
fn a_one_entry_ai_service_gets_its_gpu_and_its_model_as_compose_reads_them() {
    let m = common::Muster::new()
        .catalogue(ONE_ENTRY)
        .file("assistant/Dockerfile", "FROM python:3.12-slim\n")
        .args(&["gen", "--profile", "prod", "-o", "compose.yml"]);
    let run = m.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = normalized(&mut common::tool("docker-compose"), &m.path("compose.yml"));
    let assistant = &model["services"]["assistant"];
    assert_eq!(assistant["gpus"], serde_json::json!([{ "count": 1 }]));
    assert_eq!(
        assistant["models"]["llm"],
        serde_json::json!({ "endpoint_var": "LLM_URL", "model_var": "LLM_MODEL" })
    );
    assert_eq!(model["models"]["llm"]["model"], "ai/smollm2");
    assert_eq!(model["models"]["llm"]["context_size"], 8192);
    // Compose's own reading of "all": a count of -1.
    let ollama = &model["services"]["ollama"];
    assert_eq!(ollama["gpus"], serde_json::json!([{ "count": -1 }]));
    let mounts = ollama["volumes"]
        .as_array()
        .expect("ollama mounts its cache");
    assert!(
        mounts
            .iter()
            .any(|v| v["type"] == "volume" && v["target"] == "/root/.ollama"),
        "{mounts:?}"
    );
    assert!(model["volumes"]["ollama-models"].is_object());
}

#[test]
fn compose_2_26_refuses_the_file_with_models_that_2_40_accepts() {
    // Compose's `models` came with 2.38: the file for the newer Compose is not one for 2.26.
    let m = common::Muster::new()
        .catalogue(ONE_ENTRY)
        .file("assistant/Dockerfile", "FROM python:3.12-slim\n")
        .args(&["gen", "-o", "compose.yml"]);
    assert_eq!(m.run().code, 0);
    let out = common::compose_2_26()
        .arg("-f")
        .arg(m.path("compose.yml"))
        .args(["config", "-q"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Additional property models is not allowed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The two forms of one GPU request, in one service each, and Compose's reading of both.
fn both_forms(gpus: &muster::spec::Gpus) -> (Value, Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("services:\n");
    let mut first = String::new();
    muster::yaml::write_entry(&mut first, "gpus", &muster::gpus::compose(gpus), 4);
    let mut second = String::new();
    muster::yaml::write_entry(
        &mut second,
        "devices",
        &muster::yaml::Value::Sequence(muster::gpus::reservation_devices(muster::gpus::compose(
            gpus,
        ))),
        10,
    );
    text.push_str(&format!("  new:\n    image: app\n{first}"));
    text.push_str(&format!(
        "  old:\n    image: app\n    deploy:\n      resources:\n        reservations:\n{second}"
    ));
    let file = dir.path().join("compose.yml");
    std::fs::write(&file, &text).unwrap();
    let newest = normalized(&mut common::tool("docker-compose"), &file);
    let older = normalized(&mut common::compose_2_26(), &file);
    let request = |m: &Value, service: &str| match service {
        "new" => m["services"]["new"]["gpus"][0].clone(),
        _ => m["services"]["old"]["deploy"]["resources"]["reservations"]["devices"][0].clone(),
    };
    assert_eq!(request(&newest, "old"), request(&older, "old"));
    (request(&newest, "new"), request(&newest, "old"), older)
}

#[test]
fn the_deploy_form_asks_the_engine_for_what_gpus_asks() {
    use muster::spec::{GpuRequest, Gpus};
    for (gpus, count) in [(Gpus::All, -1), (Gpus::Count(2), 2)] {
        let (new, old, _) = both_forms(&gpus);
        assert_eq!(new["count"], count, "{new}");
        assert_eq!(old["count"], count, "{old}");
        // The same request: no driver in either (the engine picks it by capability), and the
        // `gpu` capability the Deploy form must say.
        assert_eq!(old.get("driver"), new.get("driver"));
        assert_eq!(old["capabilities"], serde_json::json!(["gpu"]));
    }
    let by_id = Gpus::Request(GpuRequest {
        device_ids: Some(vec!["0".into(), "2".into()]),
        capabilities: Some(vec!["gpu".into(), "utility".into()]),
        ..GpuRequest::default()
    });
    let (new, old, _) = both_forms(&by_id);
    assert_eq!(new["device_ids"], old["device_ids"]);
    assert_eq!(new["capabilities"], old["capabilities"]);
}

const ON_A_CLUSTER: &str = r#"
[models.llm]
model = "ai/smollm2"

[services.assistant]
kind = "ai-model"
image = "registry.example.com/assistant:1.0"
probe = "curl"
gpus = 2
models = ["llm"]
"#;

fn gen_target(target: &str) -> common::Run {
    common::Muster::new()
        .catalogue(ON_A_CLUSTER)
        .args(&["gen", "--profile", "prod", "--target", target])
        .run()
        .success()
}

#[test]
fn kubernetes_asks_the_device_plugin_for_the_gpus_in_manifests_kubernetes_accepts() {
    let run = gen_target("k8s");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s.yml");
    std::fs::write(&path, &run.stdout).unwrap();
    common::assert_kubernetes_valid(&[&path]);
    let deployment = yaml_serde::Deserializer::from_str(&run.stdout)
        .map(|d| yaml_serde::Value::deserialize(d).unwrap())
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment");
    let limits = &deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"];
    assert_eq!(limits["nvidia.com/gpu"], 2, "{limits:?}");
    assert!(
        run.stderr.contains("Kubernetes has no model runner"),
        "{}",
        run.stderr
    );
}

#[test]
fn swarm_reserves_a_number_of_gpus_as_a_generic_resource() {
    let run = gen_target("swarm");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.yml");
    std::fs::write(&path, &run.stdout).unwrap();
    common::assert_valid_compose(&path);
    let stack: yaml_serde::Value = yaml_serde::from_str(&run.stdout).unwrap();
    let service = &stack["services"]["assistant"];
    assert!(service.get("gpus").is_none() && service.get("models").is_none());
    let spec = &service["deploy"]["resources"]["reservations"]["generic_resources"][0]["discrete_resource_spec"];
    assert_eq!((&spec["kind"], &spec["value"]), (&"gpu".into(), &2.into()));
    assert!(stack.get("models").is_none());
    assert!(
        run.stderr.contains("node-generic-resources"),
        "{}",
        run.stderr
    );
}
