//! Where the catalogue wrote a value of a service, for an emitter's message about it. The
//! catalogue is read again with toml_edit, which keeps a span for every key and value, and only
//! when a message needs a place: the stages before keep the spans they check, not every value's.

use crate::diagnostic::{Diagnostic, SourceId, Sources};
use crate::resolve::{Project, Service};
use std::cell::OnceCell;
use std::ops::Range;

/// Finds values of the catalogue's services by key path.
pub(crate) struct Locator<'a> {
    text: &'a str,
    source: SourceId,
    profile: &'a str,
    doc: OnceCell<Option<toml_edit::Document<String>>>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(sources: &'a Sources, project: &'a Project) -> Locator<'a> {
        Locator {
            text: sources.text(project.catalogue_source),
            source: project.catalogue_source,
            profile: &project.profile,
            doc: OnceCell::new(),
        }
    }

    /// The span of the value at `path` (`["env", "FLAG"]`, `["volumes", "0"]`) in the service's
    /// `profiles.PROFILE` override, its entry, or either's `compose` table, as Compose's key
    /// `body_key` when that differs (`environment` for `env`).
    pub(crate) fn find(&self, service: &str, path: &[&str]) -> Option<Range<usize>> {
        let doc = self
            .doc
            .get_or_init(|| toml_edit::Document::parse(self.text.to_owned()).ok())
            .as_ref()?;
        let entry = doc.as_table().get("services")?.get(service)?;
        let over = entry.get("profiles").and_then(|p| p.get(self.profile));
        let compose_path: Vec<&str> = match path.split_first() {
            Some((&"env", rest)) => std::iter::once("environment")
                .chain(rest.iter().copied())
                .collect(),
            _ => path.to_vec(),
        };
        let in_compose = |item: &toml_edit::Item| span_of(item.get("compose")?, &compose_path);
        [over, Some(entry)]
            .into_iter()
            .flatten()
            .find_map(|item| in_compose(item).or_else(|| span_of(item, path)))
    }

    /// `d` at the value `path` of `service`, where the catalogue wrote it; else at the service,
    /// with a note naming the key (a profile or a template wrote it).
    pub(crate) fn at(
        &self,
        d: Diagnostic,
        project: &Project,
        service: &Service,
        path: &[&str],
        label: &str,
    ) -> Diagnostic {
        match self.find(&service.name, path) {
            Some(span) => d.at(self.source, Some(span), label),
            None => super::at_service(d, project, service).with_note(format!(
                "`{}` is set by the service's profile or kind template",
                path.join(".")
            )),
        }
    }
}

/// The span of the value at `path` below `item`: tables by key, arrays by index.
fn span_of(item: &toml_edit::Item, path: &[&str]) -> Option<Range<usize>> {
    let Some((first, rest)) = path.split_first() else {
        return item.span();
    };
    if let Some(array) = item.as_array() {
        let value = array.get(first.parse::<usize>().ok()?)?;
        return if rest.is_empty() { value.span() } else { None };
    }
    let value = item.as_table_like()?.get(first)?;
    span_of(value, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_value_where_it_was_written() {
        let text = "[services.web]\nkind = \"http\"\nenv = { A = \"1\", B = \"${F:+on}\" }\n\
                    volumes = [\"a:/a\", \"b:/b\"]\ncompose = { command = \"serve\" }\n\
                    profiles.prod = { image = \"x:${T}\" }\n";
        let doc = toml_edit::Document::parse(text.to_owned()).unwrap();
        let entry = doc.as_table().get("services").unwrap().get("web").unwrap();
        let at = |path: &[&str]| span_of(entry, path).map(|r| &text[r]);
        assert_eq!(at(&["env", "B"]), Some("\"${F:+on}\""));
        assert_eq!(at(&["volumes", "1"]), Some("\"b:/b\""));
        assert_eq!(at(&["compose", "command"]), Some("\"serve\""));
        assert_eq!(at(&["env", "C"]), None);
    }
}
