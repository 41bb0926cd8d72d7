//! Labels a reverse proxy reads from a Swarm service rather than from its containers. Compose
//! puts a service's `labels` on its containers, where Traefik's Docker provider reads them; on
//! Swarm the same provider reads the service's own labels (`deploy.labels`), and never sees a
//! container's.

/// Each label prefix, the provider that reads it, and where its documentation says so.
pub const SERVICE_LABEL_PROVIDERS: &[(&str, &str, &str)] = &[(
    "traefik.",
    "Traefik",
    "Traefik's Swarm provider reads labels from the service (doc.traefik.io, providers/swarm: \
     \"labels must be set on the service\")",
)];

/// The provider that reads label `key` from a Swarm service, if one does.
pub fn read_from_service(key: &str) -> Option<&'static str> {
    SERVICE_LABEL_PROVIDERS
        .iter()
        .find(|(prefix, _, _)| key.starts_with(prefix))
        .map(|(_, provider, _)| *provider)
}
