/// What a dependent waits for: Compose's `depends_on` conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Healthy,
    Started,
    Completed,
}

impl Condition {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "healthy" | "service_healthy" => Some(Condition::Healthy),
            "started" | "service_started" => Some(Condition::Started),
            "completed" | "service_completed_successfully" => Some(Condition::Completed),
            _ => None,
        }
    }

    pub fn compose_name(self) -> &'static str {
        match self {
            Condition::Healthy => "service_healthy",
            Condition::Started => "service_started",
            Condition::Completed => "service_completed_successfully",
        }
    }
}
