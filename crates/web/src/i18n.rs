//! The interface in English, French and Spanish. Every string lives in `locales/strings.toml`,
//! one table per key with `en`, `fr` and `es`; a test checks that each key has all three and
//! that every key the templates use exists.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use std::collections::HashMap;
use std::sync::LazyLock;

pub const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let primary = raw.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Es => "Español",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

pub(crate) const STRINGS_TOML: &str = include_str!("../locales/strings.toml");

type Table = HashMap<String, [String; 3]>;

pub(crate) fn parse_strings(text: &str) -> Result<Table, String> {
    let raw: HashMap<String, HashMap<String, String>> =
        toml::from_str(text).map_err(|e| e.to_string())?;
    raw.into_iter()
        .map(|(key, mut langs)| {
            let mut take = |l: Lang| {
                langs
                    .remove(l.code())
                    .ok_or_else(|| format!("{key}: no {} text", l.code()))
            };
            let texts = [take(Lang::En)?, take(Lang::Fr)?, take(Lang::Es)?];
            if let Some(extra) = langs.keys().next() {
                return Err(format!("{key}: unknown language {extra}"));
            }
            Ok((key, texts))
        })
        .collect()
}

static STRINGS: LazyLock<Table> =
    LazyLock::new(|| parse_strings(STRINGS_TOML).expect("locales/strings.toml is valid (tested)"));

/// The translator templates call: `{{ t.get("nav.projects") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn get(&self, key: &str) -> &'static str {
        match STRINGS.get(key) {
            Some(texts) => texts[self.lang.index()].as_str(),
            // Visible in the page, and caught by the template test before it ships.
            None => "⟦missing text⟧",
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// The caller's language: the `lang` cookie, else the browser's `Accept-Language`, else English.
impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Tr::from_headers(&parts.headers))
    }
}

impl Tr {
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Self {
        let from_cookie = crate::auth::cookie(headers, LANG_COOKIE).and_then(Lang::parse);
        let from_header = || {
            headers
                .get(header::ACCEPT_LANGUAGE)?
                .to_str()
                .ok()?
                .split(',')
                .find_map(|part| Lang::parse(part.split(';').next()?))
        };
        Tr {
            lang: from_cookie.or_else(from_header).unwrap_or(Lang::En),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_has_english_french_and_spanish() {
        let table = parse_strings(STRINGS_TOML).unwrap();
        assert!(table.len() > 50);
        for (key, texts) in &table {
            for (lang, text) in Lang::ALL.iter().zip(texts) {
                assert!(!text.trim().is_empty(), "{key}: empty {}", lang.code());
            }
        }
        assert!(
            parse_strings("[a]\nen = \"x\"\nfr = \"y\"\n")
                .unwrap_err()
                .contains("no es")
        );
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let table = parse_strings(STRINGS_TOML).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = 0;
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("t.get(\"").skip(1) {
                    let key = piece.split('"').next().unwrap();
                    used += 1;
                    assert!(
                        table.contains_key(key),
                        "{}: unknown key {key}",
                        path.display()
                    );
                }
            }
        }
        assert!(
            used > 50,
            "only {used} translated strings found in templates"
        );
    }

    #[test]
    fn languages_are_read_from_tags() {
        assert_eq!(Lang::parse("fr-CH"), Some(Lang::Fr));
        assert_eq!(Lang::parse("ES"), Some(Lang::Es));
        assert_eq!(Lang::parse("de"), None);
    }
}
