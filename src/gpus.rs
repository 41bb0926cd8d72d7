//! A service's GPUs (`gpus` in the catalogue) in each target's terms.
//!
//! Compose reads the service's `gpus`: `all`, or a list of device requests (2.26.1 and 2.40.3
//! both take it, measured with their `config -q`). The Deploy specification's form of the same
//! request, `deploy.resources.reservations.devices`, which needs `capabilities`, is the older
//! one: docker-compose 1.28 read it first. Swarm has no device
//! requests: a node advertises GPUs as generic resources in its `daemon.json`, and a service
//! reserves a number of them. Kubernetes asks the device plugin for a whole number of
//! `nvidia.com/gpu` (or `amd.com/gpu`) in the container's resource limits.

use crate::spec::{GpuRequest, Gpus};
use crate::yaml::{Mapping, Value as Yaml};

/// The service's `gpus`, as Compose reads it.
pub fn compose(gpus: &Gpus) -> Yaml {
    match gpus {
        Gpus::All => Yaml::from("all"),
        Gpus::Count(n) => Yaml::Sequence(vec![Yaml::Mapping(request(&GpuRequest {
            count: Some(*n),
            ..GpuRequest::default()
        }))]),
        Gpus::Request(r) => Yaml::Sequence(vec![Yaml::Mapping(request(r))]),
    }
}

/// The emitted body's `gpus` read back as a request, whoever wrote it (this catalogue key or a
/// `compose` table, which wins as it does in the Compose file), so that every target carries
/// out the request the Compose file makes. An error says what cannot be read as one request:
/// several requests, or a count only the environment decides.
pub fn from_body(value: &Yaml) -> Result<Gpus, String> {
    let items = match value {
        Yaml::String(word) if word == "all" => return Ok(Gpus::All),
        Yaml::Sequence(items) => items,
        other => {
            return Err(format!(
                "`gpus` {} is neither `all` nor a list of device requests",
                serde_json::to_string(other).unwrap_or_default()
            ));
        }
    };
    let [Yaml::Mapping(item)] = items.as_slice() else {
        return Err(format!(
            "`gpus` lists {} device requests; this target takes one",
            items.len()
        ));
    };
    let strings = |key: &str| -> Option<Vec<String>> {
        item.get(key)?.as_sequence().map(|s| {
            s.iter()
                .filter_map(Yaml::as_str)
                .map(str::to_owned)
                .collect()
        })
    };
    // Compose reads `count: all` as every GPU, and casts an interpolated count at its default.
    let count = match item.get("count") {
        None => None,
        Some(Yaml::String(all)) if all == "all" => None,
        Some(Yaml::String(text)) => Some(
            crate::model::Count::parse(text)?
                .value()
                .ok_or_else(|| format!("`gpus` count `{text}` comes from the environment"))?,
        ),
        Some(n) => Some(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("`gpus` count {n:?} is not a number of GPUs"))?,
        ),
    };
    let request = GpuRequest {
        count,
        device_ids: strings("device_ids"),
        driver: item.get("driver").and_then(Yaml::as_str).map(str::to_owned),
        capabilities: strings("capabilities"),
        options: None,
    };
    Ok(match request {
        GpuRequest {
            count: Some(n),
            device_ids: None,
            driver: None,
            capabilities: None,
            ..
        } => Gpus::Count(n),
        r => Gpus::Request(r),
    })
}

/// The request in a few words, for the report.
pub fn describe(gpus: &Gpus) -> String {
    match gpus {
        Gpus::All => "all".to_owned(),
        Gpus::Count(n) => n.to_string(),
        Gpus::Request(r) => {
            let mut words = match (&r.device_ids, r.count) {
                (Some(ids), _) => vec![format!("ids {}", ids.join(", "))],
                (None, Some(n)) => vec![n.to_string()],
                (None, None) => vec!["all".to_owned()],
            };
            if let Some(driver) = &r.driver {
                words.push(format!("driver {driver}"));
            }
            words.join(", ")
        }
    }
}

/// The same request in the Deploy specification's form, for a service's
/// `deploy.resources.reservations.devices`: what Compose read before the `gpus` key (1.28 on).
/// It takes the emitted `gpus` value, whoever wrote it (this catalogue key or a `compose`
/// table), so a target older than the key (`features::FEATURES`) gets the same request. The
/// Deploy form requires `capabilities` ("You must set this field", Compose's GPU guide), which
/// `gpus` leaves at `[gpu]`; the driver stays unsaid in both, so the engine picks it by that
/// capability either way.
pub fn reservation_devices(gpus: Yaml) -> Vec<Yaml> {
    let gpu_capability = || Yaml::Sequence(vec![Yaml::from("gpu")]);
    match gpus {
        Yaml::Sequence(items) => items
            .into_iter()
            .map(|item| {
                let mut request = match item {
                    Yaml::Mapping(m) => m,
                    _ => Mapping::new(),
                };
                request
                    .entry("capabilities".into())
                    .or_insert_with(gpu_capability);
                Yaml::Mapping(crate::key_order::gpu_request(request))
            })
            .collect(),
        // `all` (the Deploy form's every GPU is `count: all`), or a value Compose will judge.
        other => {
            let mut request = Mapping::new();
            request.insert("count".into(), other);
            request.insert("capabilities".into(), gpu_capability());
            vec![Yaml::Mapping(request)]
        }
    }
}

/// One device request. `capabilities` is required in the Deploy form ("You must set this
/// field", Compose's GPU guide), where Docker's `--gpus` means `[gpu]`; the `gpus` key defaults
/// to it, so it is written there only when asked for.
fn request(r: &GpuRequest) -> Mapping {
    let mut m = Mapping::new();
    if let Some(driver) = &r.driver {
        m.insert("driver".into(), Yaml::from(driver.as_str()));
    }
    if let Some(count) = r.count {
        m.insert("count".into(), Yaml::from(u64::from(count)));
    }
    if let Some(ids) = &r.device_ids {
        m.insert("device_ids".into(), strings(ids));
    }
    if let Some(caps) = &r.capabilities {
        m.insert("capabilities".into(), strings(caps));
    }
    if let Some(options) = &r.options {
        let options = options
            .iter()
            .map(|(k, v)| (Yaml::from(k.as_str()), Yaml::from(v.0.as_str())))
            .collect();
        m.insert("options".into(), Yaml::Mapping(options));
    }
    m
}

fn strings(items: &[String]) -> Yaml {
    Yaml::Sequence(items.iter().map(|s| Yaml::from(s.as_str())).collect())
}

/// The Kubernetes extended resource and how many of it, with what could not be said exactly.
pub struct KubernetesGpus {
    pub resource: &'static str,
    pub count: u64,
    /// Why the count or the resource is not exactly what the catalogue asks for.
    pub approximation: Option<String>,
}

/// The resource limit a pod needs for `gpus`. `None` for a driver no device plugin muster
/// knows serves.
pub fn kubernetes(gpus: &Gpus) -> Result<KubernetesGpus, String> {
    let (driver, count, approximation) = match gpus {
        Gpus::All => (
            None,
            1,
            Some(
                "Kubernetes has no \"all GPUs of the node\": 1 GPU requested; set `gpus` to a \
                 number"
                    .to_owned(),
            ),
        ),
        Gpus::Count(n) => (None, u64::from(*n), None),
        Gpus::Request(r) => match (&r.device_ids, r.count) {
            (Some(ids), _) => (
                r.driver.as_deref(),
                ids.len() as u64,
                Some(format!(
                    "the device plugin picks the GPUs, not `device_ids`: {} requested",
                    ids.len()
                )),
            ),
            (None, Some(n)) => (r.driver.as_deref(), u64::from(n), None),
            (None, None) => (
                r.driver.as_deref(),
                1,
                Some(
                    "Kubernetes has no \"all GPUs of the node\": 1 GPU requested; set `count`"
                        .to_owned(),
                ),
            ),
        },
    };
    // The resource names the vendors' device plugins register.
    let resource = match driver {
        None | Some("nvidia") => "nvidia.com/gpu",
        Some("amd") => "amd.com/gpu",
        Some(other) => {
            return Err(format!(
                "no Kubernetes device plugin muster knows serves GPU driver `{other}` (nvidia: \
                 `nvidia.com/gpu`, amd: `amd.com/gpu`); set the limit in a patch of the manifest"
            ));
        }
    };
    Ok(KubernetesGpus {
        resource,
        count,
        approximation,
    })
}

/// The Swarm reservation for `gpus`: a number of the generic resource `gpu`, which each GPU
/// node must advertise (`"node-generic-resources": ["gpu=GPU-..."]` in its `daemon.json`).
/// `None` where Swarm cannot reserve what is asked: every GPU, or GPUs by id.
pub fn swarm_generic_resources(gpus: &Gpus) -> Option<Yaml> {
    let count = match gpus {
        Gpus::Count(n) => *n,
        Gpus::Request(GpuRequest {
            count: Some(n),
            device_ids: None,
            ..
        }) => *n,
        _ => return None,
    };
    let spec: Mapping = [
        ("kind".into(), Yaml::from("gpu")),
        ("value".into(), Yaml::from(u64::from(count))),
    ]
    .into_iter()
    .collect();
    let entry: Mapping = [("discrete_resource_spec".into(), Yaml::Mapping(spec))]
        .into_iter()
        .collect();
    Some(Yaml::Sequence(vec![Yaml::Mapping(entry)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(gpus: &Gpus) -> String {
        let mut out = String::new();
        let devices = Yaml::Sequence(reservation_devices(compose(gpus)));
        crate::yaml::write_entry(&mut out, "devices", &devices, 0);
        out
    }

    #[test]
    fn every_gpu_in_the_deploy_form_says_count_all_and_its_capability() {
        // The Deploy form refuses a device without `capabilities`; `count: all` is its "every".
        assert_eq!(
            yaml(&Gpus::All),
            "devices:\n  - count: all\n    capabilities:\n      - gpu\n"
        );
        assert_eq!(
            yaml(&Gpus::Count(2)),
            "devices:\n  - count: 2\n    capabilities:\n      - gpu\n"
        );
    }

    #[test]
    fn the_body_reads_back_as_the_request_it_makes() {
        let read = |text: &str| from_body(&crate::yaml::from_str(text).unwrap());
        assert_eq!(read("all"), Ok(Gpus::All));
        assert_eq!(read("[{count: 2}]"), Ok(Gpus::Count(2)));
        assert_eq!(read("[{count: \"${N:-3}\"}]"), Ok(Gpus::Count(3)));
        assert_eq!(
            read("[{count: all, driver: amd}]"),
            Ok(Gpus::Request(GpuRequest {
                driver: Some("amd".into()),
                ..GpuRequest::default()
            }))
        );
        // What the catalogue key writes reads back as what it asked for.
        for gpus in [Gpus::All, Gpus::Count(4)] {
            assert_eq!(from_body(&compose(&gpus)), Ok(gpus.clone()));
        }
        assert!(read("[{count: 1}, {count: 1}]").is_err());
        assert!(read("[{count: \"${N}\"}]").is_err());
    }

    #[test]
    fn kubernetes_has_no_all() {
        let k = kubernetes(&Gpus::All).unwrap();
        assert_eq!((k.resource, k.count), ("nvidia.com/gpu", 1));
        assert!(k.approximation.is_some());
        let amd = kubernetes(&Gpus::Request(GpuRequest {
            driver: Some("amd".into()),
            count: Some(2),
            ..GpuRequest::default()
        }))
        .unwrap();
        assert_eq!((amd.resource, amd.count), ("amd.com/gpu", 2));
        assert!(amd.approximation.is_none());
    }
}
