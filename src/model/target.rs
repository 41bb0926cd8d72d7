/// What `muster gen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A Compose file for `docker compose up`.
    Compose,
    /// A stack file for `docker stack deploy`.
    Swarm,
    /// Kubernetes manifests for `kubectl apply -f`.
    Kubernetes,
}
