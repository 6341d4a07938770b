//! Which language a page is shown in: the visitor's explicit choice (the
//! switch on every page, `?lang=`, kept in a cookie), else the browser's
//! `Accept-Language` preference, else Simplified Chinese (the market's own
//! language).
use super::catalogue::{EN, Messages, ZH_CN};

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    ZhCn,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];
    /// When neither a choice nor the browser names one the portal speaks.
    pub const DEFAULT: Locale = Locale::ZhCn;

    /// The BCP 47 tag, as `<html lang>` and `?lang=` write it.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn messages(self) -> &'static Messages {
        match self {
            Locale::ZhCn => &ZH_CN,
            Locale::En => &EN,
        }
    }

    /// The locale a language tag asks for: any Chinese (`zh`, `zh-CN`,
    /// `zh-Hans`, …) or any English (`en`, `en-GB`, …), case-insensitive.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Locale::ZhCn),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The best locale of an `Accept-Language` header (RFC 9110 §12.5.4):
    /// the spoken language with the highest weight (`q`), earlier entries
    /// winning ties; `*` and languages the portal does not speak are
    /// passed over; `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let Some(locale) = parts.next().and_then(Locale::from_tag) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The locale of a request: `chosen` (query or cookie) if it names one,
    /// else the `Accept-Language` header, else [`Locale::DEFAULT`].
    pub fn negotiate(chosen: Option<&str>, accept_language: Option<&str>) -> Locale {
        chosen
            .and_then(Locale::from_tag)
            .or_else(|| accept_language.and_then(Locale::from_accept_language))
            .unwrap_or(Locale::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preference_picks_the_language() {
        assert_eq!(Locale::from_accept_language("zh-CN"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_accept_language("en"), Some(Locale::En));
        assert_eq!(
            Locale::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Locale::ZhCn)
        );
        assert_eq!(
            Locale::from_accept_language("en-GB;q=0.5, zh-Hans;q=0.7"),
            Some(Locale::ZhCn)
        );
        assert_eq!(
            Locale::from_accept_language("fr-FR, en-US;q=0.3"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("fr, *;q=0.1"), None);
        assert_eq!(
            Locale::from_accept_language("zh;q=0, en;q=0.2"),
            Some(Locale::En)
        );
    }

    #[test]
    fn an_explicit_choice_wins_over_the_browser_and_nothing_means_chinese() {
        assert_eq!(Locale::negotiate(Some("en"), Some("zh-CN")), Locale::En);
        assert_eq!(Locale::negotiate(Some("xx"), Some("en")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("de")), Locale::ZhCn);
        assert_eq!(Locale::negotiate(None, None), Locale::ZhCn);
        for l in Locale::ALL {
            assert_eq!(Locale::from_tag(l.tag()), Some(l));
        }
    }
}
